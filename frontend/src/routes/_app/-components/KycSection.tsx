import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type ChangeEvent, type SyntheticEvent } from "react";
import { css } from "styled-system/css";

import { getComplianceGetKycQueryKey, useCompliancePutKyc } from "../../../api/generated/compliance/compliance";
import type { KycProfile } from "../../../api/generated/model";
import { toaster } from "../../../components/toaster";
import { Button, Card, ErrorLines, ErrorNotice, Fieldset, SelectField, TextField } from "../../../components/ui";
import {
  ADDRESS_TYPES,
  hasUnshownDetails,
  isKycMissing,
  KYC_SECTION_ID,
  kycBody,
  kycErrors,
  kycFormFrom,
  kycQueryOptions,
  NATIONAL_ID_TYPES,
  PART_FIELDS,
  type KycForm,
  type KycPart,
} from "./kycForm";

/** Settings' "Identity (KYC)" section: the identity withdrawals carry as their originator (travel rule). */
export function KycSection({ className }: { className?: string }) {
  const kyc = useQuery(kycQueryOptions());
  const missing = isKycMissing(kyc.error);
  return (
    <Card id={KYC_SECTION_ID} title="Identity (KYC)" className={className}>
      {kyc.isPending ? (
        <p className={css({ color: "fg.muted", fontSize: "sm" })}>Loading…</p>
      ) : kyc.error && !missing ? (
        <ErrorNotice error={kyc.error} />
      ) : (
        // A saved identity comes back normalised (codes in capitals): the form starts again from it.
        <KycProfileForm key={kyc.data?.updated_at ?? "none"} profile={kyc.data} />
      )}
    </Card>
  );
}

const fieldPair = css({ display: "grid", gap: "3", gridTemplateColumns: { base: "1fr", sm: "1fr 1fr" } });

function KycProfileForm({ profile }: { profile: KycProfile | undefined }) {
  const queryClient = useQueryClient();
  const save = useCompliancePutKyc();
  const [form, setForm] = useState<KycForm>(() => kycFormFrom(profile?.natural_person));
  // A field's error from the last answer is hidden once the trader edits that field; a part's once any of its
  // fields is edited, and one about the whole person (which parts are given) at the first edit.
  const [edited, setEdited] = useState<ReadonlySet<keyof KycForm>>(new Set());
  const errors = kycErrors(save.error);
  const errorFor = (key: keyof KycForm) => (edited.has(key) ? undefined : errors.fields[key]);
  const partErrorFor = (part: KycPart) => (PART_FIELDS[part].some((key) => edited.has(key)) ? undefined : errors.fields[part]);
  const update = (key: keyof KycForm) => (event: ChangeEvent<HTMLInputElement | HTMLSelectElement>) => {
    setForm((current) => ({ ...current, [key]: event.target.value }));
    setEdited((current) => new Set([...current, key]));
  };
  const summary = [...errors.form, ...(errors.fields.person === undefined || edited.size > 0 ? [] : [errors.fields.person])];

  async function onSubmit(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    setEdited(new Set());
    try {
      await save.mutateAsync({ data: kycBody(form) });
    } catch {
      return; // the problem is shown field by field below
    }
    toaster.create({ type: "success", title: "Identity saved", description: "Your withdrawals will carry it as their originator." });
    await queryClient.invalidateQueries({ queryKey: getComplianceGetKycQueryKey() });
  }

  return (
    <form aria-label="Identity (KYC)" onSubmit={(event) => void onSubmit(event)} noValidate className={css({ display: "flex", flexDirection: "column", gap: "3" })}>
      <p className={css({ fontSize: "sm" })}>
        The travel rule (IVMS101) has every withdrawal name you as its sender. Give your legal name and at least one of: an address, a national identification, or your date and place of
        birth. Tessera stores it encrypted; compliance officers see it with the withdrawals they review.
      </p>
      {profile ? (
        <p className={css({ fontSize: "sm", color: "fg.muted" })}>
          On file, last saved {new Date(profile.updated_at).toLocaleString()}.
        </p>
      ) : (
        <p className={css({ fontSize: "sm", color: "warning", fontWeight: "medium" })}>
          Not on file yet: withdrawals need it.
        </p>
      )}
      {profile && hasUnshownDetails(profile.natural_person) ? (
        <p className={css({ fontSize: "sm", color: "warning" })}>The identity on file has details this form does not show (set through the API); saving replaces them with what is entered here.</p>
      ) : null}
      <div className={css({ display: "grid", gap: "3", gridTemplateColumns: { base: "1fr", lg: "1fr 1fr" }, alignItems: "start" })}>
        <Fieldset legend="Name and residence">
          <TextField label="Last name" name="primary_identifier" autoComplete="family-name" value={form.lastName} onChange={update("lastName")} error={errorFor("lastName")} hint="Legal name, as on your identity document." />
          <TextField label="First names (optional)" name="secondary_identifier" autoComplete="given-name" value={form.firstName} onChange={update("firstName")} error={errorFor("firstName")} />
          <TextField
            label="Country of residence (optional)"
            name="country_of_residence"
            autoComplete="off"
            maxLength={2}
            value={form.countryOfResidence}
            onChange={update("countryOfResidence")}
            error={errorFor("countryOfResidence")}
            hint="Two-letter code, e.g. GB."
          />
        </Fieldset>
        <Fieldset legend="Address (optional)" hint="A street with a building number or name, the town and the country." error={partErrorFor("address")}>
          <SelectField label="Address type" name="address_type" value={form.addressType} onChange={update("addressType")} error={errorFor("addressType")} options={ADDRESS_TYPES} />
          <div className={fieldPair}>
            <TextField label="Street" name="street_name" autoComplete="address-line1" value={form.streetName} onChange={update("streetName")} error={errorFor("streetName")} />
            <TextField label="Building number" name="building_number" autoComplete="off" value={form.buildingNumber} onChange={update("buildingNumber")} error={errorFor("buildingNumber")} />
          </div>
          <TextField label="Building name" name="building_name" autoComplete="address-line2" value={form.buildingName} onChange={update("buildingName")} error={errorFor("buildingName")} />
          <div className={fieldPair}>
            <TextField label="Town or city" name="town_name" autoComplete="address-level2" value={form.townName} onChange={update("townName")} error={errorFor("townName")} />
            <TextField label="Postcode (optional)" name="postcode" autoComplete="postal-code" value={form.postcode} onChange={update("postcode")} error={errorFor("postcode")} />
          </div>
          <div className={fieldPair}>
            <TextField
              label="Region or state (optional)"
              name="country_sub_division"
              autoComplete="address-level1"
              value={form.countrySubDivision}
              onChange={update("countrySubDivision")}
              error={errorFor("countrySubDivision")}
            />
            <TextField
              label="Country"
              name="address_country"
              autoComplete="country"
              maxLength={2}
              value={form.addressCountry}
              onChange={update("addressCountry")}
              error={errorFor("addressCountry")}
              hint="Two-letter code."
            />
          </div>
        </Fieldset>
        <Fieldset legend="National identification (optional)" error={partErrorFor("identification")}>
          <SelectField label="Document type" name="national_identifier_type" value={form.nationalIdType} onChange={update("nationalIdType")} error={errorFor("nationalIdType")} options={NATIONAL_ID_TYPES} />
          <TextField label="Document number" name="national_identifier" autoComplete="off" value={form.nationalId} onChange={update("nationalId")} error={errorFor("nationalId")} />
          <TextField
            label="Country of issue (optional)"
            name="country_of_issue"
            autoComplete="off"
            maxLength={2}
            value={form.nationalIdCountry}
            onChange={update("nationalIdCountry")}
            error={errorFor("nationalIdCountry")}
            hint="Two-letter code."
          />
        </Fieldset>
        <Fieldset legend="Date and place of birth (optional)" error={partErrorFor("birth")}>
          <TextField label="Date of birth" name="date_of_birth" type="date" autoComplete="bday" value={form.birthDate} onChange={update("birthDate")} error={errorFor("birthDate")} />
          <TextField label="Place of birth" name="place_of_birth" autoComplete="off" value={form.birthPlace} onChange={update("birthPlace")} error={errorFor("birthPlace")} hint="Town or city." />
        </Fieldset>
      </div>
      <ErrorLines lines={summary} />
      <Button type="submit" disabled={save.isPending} className={css({ alignSelf: "start" })}>
        {save.isPending ? "Saving…" : "Save identity"}
      </Button>
    </form>
  );
}
