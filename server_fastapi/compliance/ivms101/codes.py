"""Code lists of IVMS101 and the two external registers it points to: ISO 3166-1 alpha-2 country codes
(constraint C3), the GLEIF Registration Authorities list (C10) and the ISO 17442 LEI check digits (C11)."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Final, Literal

NaturalPersonNameTypeCode = Literal["ALIA", "BIRT", "MAID", "LEGL", "MISC"]
LegalPersonNameTypeCode = Literal["LEGL", "SHRT", "TRAD"]
AddressTypeCode = Literal["HOME", "BIZZ", "GEOG"]
NationalIdentifierTypeCode = Literal[
    "ARNU", "CCPT", "RAID", "DRLC", "FIIN", "TXID", "SOCS", "IDCD", "LEIX", "MISC"
]
TransliterationMethodCode = Literal[
    "arab", "aran", "armn", "cyrl", "deva", "geor", "grek", "hani", "hebr", "kana", "kore", "thai", "othr"
]
PayloadVersionCode = Literal["101", "101.2023"]

NATURAL_PERSON_NAME_TYPES: Final = ("ALIA", "BIRT", "MAID", "LEGL", "MISC")
LEGAL_PERSON_NAME_TYPES: Final = ("LEGL", "SHRT", "TRAD")
ADDRESS_TYPES: Final = ("HOME", "BIZZ", "GEOG")
NATIONAL_IDENTIFIER_TYPES: Final = (
    "ARNU",
    "CCPT",
    "RAID",
    "DRLC",
    "FIIN",
    "TXID",
    "SOCS",
    "IDCD",
    "LEIX",
    "MISC",
)
# C7: the only national identifier types a legal person may carry.
LEGAL_PERSON_NATIONAL_IDENTIFIER_TYPES: Final = ("RAID", "MISC", "LEIX", "TXID")
TRANSLITERATION_METHODS: Final = (
    "arab",
    "aran",
    "armn",
    "cyrl",
    "deva",
    "geor",
    "grek",
    "hani",
    "hebr",
    "kana",
    "kore",
    "thai",
    "othr",
)
# C1: address types that identify an originating natural person; C4 accepts only GEOG for a legal person.
NATURAL_PERSON_IDENTIFYING_ADDRESS_TYPES: Final = frozenset({"GEOG", "HOME", "BIZZ"})
LEGAL_PERSON_IDENTIFYING_ADDRESS_TYPES: Final = frozenset({"GEOG"})

# ISO 3166-1 alpha-2, the 249 officially assigned codes, plus XX ("unknown state or entity", WIPO ST.3),
# which the IVMS101 CountryCode datatype admits explicitly.
COUNTRY_CODES: Final = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI
    FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN
    IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
    MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF
    PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE
    YT ZA ZM ZW XX
    """.split()  # noqa: SIM905 - a table of 250 codes reads better as text
)

LEI_PATTERN: Final = re.compile(r"[0-9A-Z]{18}[0-9]{2}")
REGISTRATION_AUTHORITY_PATTERN: Final = re.compile(r"RA[0-9]{6}")


def lei_check_digits_valid(lei: str) -> bool:
    """ISO 17442 (ISO 7064 MOD 97-10): letters count as 10..35, and the whole number mod 97 must be 1."""
    if not LEI_PATTERN.fullmatch(lei):
        return False
    return int("".join(str(int(char, 36)) for char in lei)) % 97 == 1


def lei_problem(lei: str) -> str | None:
    """Why `lei` is not a valid LEI, or None when it is."""
    if not LEI_PATTERN.fullmatch(lei):
        return "an LEI is 20 characters: 18 upper-case letters or digits, then 2 check digits (ISO 17442)"
    if not lei_check_digits_valid(lei):
        return "the LEI's check digits are wrong (ISO 17442 MOD 97-10)"
    return None


@cache
def registration_authority_codes() -> frozenset[str]:
    """RA codes of the GLEIF Registration Authorities list shipped in `compliance/data/`."""
    source = resources.files("server_fastapi.compliance").joinpath("data/gleif-registration-authorities.json")
    entries = json.loads(source.read_text(encoding="utf-8"))
    return frozenset(str(entry["option"]) for entry in entries)


def registration_authority_problem(code: str) -> str | None:
    """Why `code` is not a usable registration authority, or None when it is on the GLEIF list (C10)."""
    if not REGISTRATION_AUTHORITY_PATTERN.fullmatch(code):
        return "a registration authority is 'RA' followed by 6 digits, e.g. RA000553"
    if code not in registration_authority_codes():
        return f"{code} is not on the GLEIF Registration Authorities list"
    return None
