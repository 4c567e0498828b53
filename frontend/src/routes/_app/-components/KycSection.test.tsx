import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { KycProfile } from "../../../api/generated/model";
import { AppToaster } from "../../../components/toaster";
import { jsonResponse } from "../../../test/responses";
import { KycSection } from "./KycSection";


const MISSING = { type: "urn:tessera:problem:kyc-missing", title: "No KYC Profile", status: 404, detail: "No KYC profile is on file for this account.", instance: "/api/v1/kyc", request_id: "r1" };

const profile: KycProfile = {
  natural_person: {
    name: { nameIdentifier: [{ primaryIdentifier: "Lovelace", secondaryIdentifier: "Augusta Ada", naturalPersonNameIdentifierType: "LEGL" }] },
    geographicAddress: [{ addressType: "BIZZ", streetName: "St James's Square", buildingNumber: "12", postcode: "SW1Y 4JH", townName: "London", country: "GB" }],
    nationalIdentification: { nationalIdentifier: "123456789", nationalIdentifierType: "CCPT", countryOfIssue: "GB" },
    dateAndPlaceOfBirth: { dateOfBirth: "1815-12-10", placeOfBirth: "London" },
    countryOfResidence: "GB",
  },
  updated_at: "2026-11-02T09:30:00Z",
};

/** The API as the section sees it: `GET /api/v1/kyc` answers `onFile` (or 404), `PUT` answers `onPut`. */
function renderSection(onFile: KycProfile | null, onPut: (body: unknown) => Response) {
  const sent: unknown[] = [];
  let stored = onFile;
  const fetchMock = vi.fn<typeof fetch>(async (input) => {
    const request = input as Request;
    if (request.method === "PUT") {
      const body: unknown = await request.json();
      sent.push(body);
      const answer = onPut(body);
      if (answer.ok) stored = (await answer.clone().json()) as KycProfile;
      return answer;
    }
    return stored ? jsonResponse(200, stored) : jsonResponse(404, MISSING, "application/problem+json");
  });
  vi.stubGlobal("fetch", fetchMock);
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <KycSection />
      <AppToaster />
    </QueryClientProvider>,
  );
  return { fetchMock, sent, user: userEvent.setup() };
}

const input = (label: string) => screen.getByLabelText(label, { exact: true });

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("KycSection", () => {
  it("shows the API's field errors on the inputs their pointers name", async () => {
    const invalid = {
      type: "urn:tessera:problem:validation",
      title: "Invalid Input",
      status: 422,
      detail: "The identity breaks 3 rules of IVMS101.",
      instance: "/api/v1/kyc",
      request_id: "r2",
      errors: [
        { location: "body", pointer: "/natural_person/countryOfResidence", detail: "'UK' is not an ISO 3166-1 alpha-2 country code (nor XX)", code: "C3" },
        { location: "body", pointer: "/natural_person/dateAndPlaceOfBirth/placeOfBirth", detail: "is required", code: "required" },
        { location: "body", pointer: "/natural_person/geographicAddress/0", detail: "an address needs addressLine, or streetName with buildingName or buildingNumber", code: "C8" },
      ],
    };
    const { sent, user } = renderSection(null, () => jsonResponse(422, invalid, "application/problem+json"));
    expect(await screen.findByText("Not on file yet: withdrawals need it.")).toBeInTheDocument();
    await user.type(input("Last name"), "Lovelace");
    await user.type(input("Country of residence (optional)"), "uk");
    await user.type(input("Street"), "St James's Square");
    await user.type(input("Date of birth"), "1815-12-10");
    await user.click(screen.getByRole("button", { name: "Save identity" }));

    expect(await screen.findByRole("alert")).toHaveTextContent("The identity breaks 3 rules of IVMS101.");
    expect(sent).toEqual([
      {
        natural_person: {
          name: { nameIdentifier: [{ primaryIdentifier: "Lovelace", naturalPersonNameIdentifierType: "LEGL" }] },
          geographicAddress: [{ addressType: "HOME", streetName: "St James's Square" }],
          dateAndPlaceOfBirth: { dateOfBirth: "1815-12-10" },
          countryOfResidence: "UK",
        },
      },
    ]);
    expect(input("Country of residence (optional)")).toHaveAttribute("aria-invalid", "true");
    expect(input("Country of residence (optional)")).toHaveAccessibleDescription("'UK' is not an ISO 3166-1 alpha-2 country code (nor XX)");
    expect(input("Place of birth")).toHaveAccessibleDescription("is required");
    expect(screen.getByRole("group", { name: "Address (optional)" })).toHaveAccessibleDescription("an address needs addressLine, or streetName with buildingName or buildingNumber");
    expect(input("Last name")).not.toHaveAttribute("aria-invalid");
    expect(input("Date of birth")).not.toHaveAttribute("aria-invalid");

    // Editing a field hides its error from the last answer; the others stay until the next save.
    await user.clear(input("Country of residence (optional)"));
    await user.type(input("Country of residence (optional)"), "GB");
    expect(input("Country of residence (optional)")).not.toHaveAttribute("aria-invalid");
    expect(input("Place of birth")).toHaveAttribute("aria-invalid", "true");
  });

  it("says above the form what the identity as a whole still lacks", async () => {
    const incomplete = {
      type: "urn:tessera:problem:validation",
      title: "Invalid Input",
      status: 422,
      detail: "The identity breaks 1 rule of IVMS101.",
      instance: "/api/v1/kyc",
      request_id: "r3",
      errors: [
        {
          location: "body",
          pointer: "/natural_person",
          detail: "an originating natural person needs a GEOG, HOME or BIZZ geographicAddress, customerIdentification, nationalIdentification or dateAndPlaceOfBirth",
          code: "C1",
        },
      ],
    };
    const { user } = renderSection(null, () => jsonResponse(422, incomplete, "application/problem+json"));
    await user.type(await screen.findByLabelText("Last name", { exact: true }), "Lovelace");
    await user.click(screen.getByRole("button", { name: "Save identity" }));

    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent(/^The identity breaks 1 rule of IVMS101\.an originating natural person needs a GEOG, HOME or BIZZ geographicAddress/);
    expect(input("Last name")).not.toHaveAttribute("aria-invalid");
  });

  it("fills the form from the identity on file, and after saving shows what the API stored", async () => {
    const { fetchMock, sent, user } = renderSection(profile, (body) => jsonResponse(200, { ...(body as object), updated_at: "2026-11-03T10:00:00Z" }));
    expect(await screen.findByDisplayValue("Lovelace")).toBe(input("Last name"));
    expect(input("First names (optional)")).toHaveValue("Augusta Ada");
    expect(input("Country of residence (optional)")).toHaveValue("GB");
    expect(input("Address type")).toHaveValue("BIZZ");
    expect(input("Street")).toHaveValue("St James's Square");
    expect(input("Building number")).toHaveValue("12");
    expect(input("Postcode (optional)")).toHaveValue("SW1Y 4JH");
    expect(input("Town or city")).toHaveValue("London");
    expect(input("Country")).toHaveValue("GB");
    expect(input("Document type")).toHaveValue("CCPT");
    expect(input("Document number")).toHaveValue("123456789");
    expect(input("Country of issue (optional)")).toHaveValue("GB");
    expect(input("Date of birth")).toHaveValue("1815-12-10");
    expect(input("Place of birth")).toHaveValue("London");
    expect(screen.getByText(/^On file, last saved/)).toBeInTheDocument();
    expect(screen.queryByText(/details this form does not show/)).not.toBeInTheDocument();

    await user.clear(input("Place of birth"));
    await user.type(input("Place of birth"), "Marylebone");
    await user.click(screen.getByRole("button", { name: "Save identity" }));

    const toast = await screen.findByText("Identity saved");
    expect(within(toast.parentElement ?? document.body).getByText("Your withdrawals will carry it as their originator.")).toBeInTheDocument();
    expect(sent).toEqual([{ natural_person: { ...profile.natural_person, dateAndPlaceOfBirth: { dateOfBirth: "1815-12-10", placeOfBirth: "Marylebone" } } }]);
    // The cached identity was invalidated and asked for again: the form now starts from the stored one.
    await vi.waitFor(() => expect(fetchMock.mock.calls.filter(([request]) => (request as Request).method === "GET")).toHaveLength(2));
    expect(await screen.findByText(`On file, last saved ${new Date("2026-11-03T10:00:00Z").toLocaleString()}.`)).toBeInTheDocument();
    expect(input("Place of birth")).toHaveValue("Marylebone");
  });
});
