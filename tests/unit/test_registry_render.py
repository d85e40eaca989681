"""``lotline registry show`` as text: statuses, scope and keys judged at the moment shown."""

from __future__ import annotations

import io
import re

import pytest

from query.render.registry import lab_history_text, registry_text
from tests.conftest import NOW
from tests.registry_samples import BAUA, CAR, CNAS, DAKKS, DAY, LAB_V1, LAB_V2, SAMR_ZJ, SPIELWAREN, YW_TOYS

pytestmark = pytest.mark.unit


def shown(at, as_of=None) -> str:
    out = io.StringIO()
    registry_text({"CNAS": CNAS, "DAkkS": DAKKS}, {"LAB-CTI-YW": LAB_V2, "LAB-NBT-NB": LAB_V1},
                  {"DE-BAuA": BAUA, "SAMR-ZJ": SAMR_ZJ}, {"ORG-DE-SPIELWAREN": SPIELWAREN, "ORG-YW-TOYS": YW_TOYS},
                  at, as_of, out, {"SKU-CAR-RED": CAR})
    return out.getvalue()


def test_the_registry_shows_each_accreditation_with_its_status_scope_and_each_key_with_its_validity():
    text = shown(NOW)
    assert "2 accreditation bodies, 2 labs, 2 regulators, 2 organisations" in text
    assert "accreditation CNAS L1234 by CNAS: ACTIVE; valid 2025-11-20 to 2027-11-20" in text
    assert "status history: granted 2025-11-20, suspended 2026-10-11, granted 2026-10-16" in text
    assert "scope: methods GB 6675.4-2014, GB/T 22048-2015; analytes Pb (soluble); products toys" in text
    assert "qualification CMA 2021110234U: valid" in text
    assert "key LAB-CTI-YW-1a2b3c4d: valid; from 2026-08-12 12:00:00Z, until no end" in text
    assert "key LAB-CTI-YW-0f0f0f0f: REVOKED 2026-06-23 12:00:00Z (laptop stolen)" in text
    assert "accreditation CNAS L5678 by CNAS (from the v1 fields): ACTIVE" in text
    assert "no signing keys" in text
    assert "SAMR-ZJ  Zhejiang Administration for Market Regulation; jurisdiction CN-ZJ" in text
    assert "recognises accreditations by: CNAS" in text and "requires qualifications: CMA" in text
    assert "recognises accreditations by: any ILAC MRA signatory for testing" in text


def test_each_organisation_shows_where_it_is_its_roles_phone_and_locations_and_each_product_its_description():
    section = shown(NOW).split("\n\norganisations\n", 1)[1].split("\n\nproducts\n", 1)[0]
    orgs, places = section.split("\n\n")
    rows = {cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", line) for line in orgs.splitlines()[2:])}
    assert rows["ORG-YW-TOYS"] == ["Yiwu Happy Toys Co., Ltd.", "CN", "CN-ZJ", "manufacturer, brand",
                                   "+86 579 8555 0101", "2026-10-31"]
    assert rows["ORG-DE-SPIELWAREN"] == ["Spielwaren Nord GmbH", "DE", "-", "-", "-", "2026-10-31"]
    located = [re.split(r"\s{2,}", line) for line in places.splitlines()[2:]]
    assert located == [
        ["ORG-YW-TOYS", "YW-ASSEMBLY", "Assembly plant", "88 Chouzhou North Road", "Yiwu", "Zhejiang", "322000", "CN",
         "6901234000016"],
        ["ORG-YW-TOYS", "YW-PACKING", "Packing hall", "29.31, 120.08", "Yiwu", "Zhejiang", "-", "CN", "-"],
    ]
    products = shown(NOW).split("\n\nproducts\n", 1)[1]
    [car] = [re.split(r"\s{2,}", line) for line in products.splitlines()[2:]]
    assert car == ["SKU-CAR-RED", "ORG-YW-TOYS", "Red racing car", "Happy Toys", "1 car, 14 cm; window box",
                   "6901234567892", "toys", "HT-RC-14"]
    empty = io.StringIO()
    registry_text({}, {}, {}, {}, NOW, None, empty)
    assert empty.getvalue().endswith("organisations\n  (none)\n\nproducts\n  (none)\n")


def test_a_suspension_shows_as_inactive_at_a_moment_within_it():
    text = shown(NOW - 38 * DAY, as_of=NOW)
    assert f"registry as of {NOW:%Y-%m-%d %H:%M:%S}Z" in text
    assert "accreditation CNAS L1234 by CNAS: inactive (suspended)" in text


def test_a_labs_history_lists_its_snapshots():
    out = io.StringIO()
    lab_history_text([LAB_V1, LAB_V2], out)
    assert "history: 2 snapshots" in out.getvalue() and "lab-ev-cti-2" in out.getvalue()
