"""Fixtures in the shape of the DSA Transparency Database daily dumps, written from the documented format
(github.com/digital-services-act/transparency-database): 38 columns (full) or 34 (light), every cell quoted, lists as JSON arrays, dates
'YYYY-MM-DD HH:MM:SS', zip-of-zips packaging with .sha1 members. No real dump rows are used: platforms, ids and
texts are invented, in the patterns real dumps show (templated grounds text, platform-specific id namespaces)."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path

from riskkit.library import load_library

LIB = load_library()
FULL: list[str] = list(LIB.dsa_import.columns.full)
LIGHT_DROPS: list[str] = list(LIB.dsa_import.columns.light_drops)
LIGHT = [c for c in FULL if c not in LIGHT_DROPS]

#: Two invented platforms with their own platform_uid namespaces and terms-of-service hosts.
PLATFORMS = {
    "Contoh": {"prefix": "C-", "url": "https://contoh.example/terms"},
    "Gambar": {"prefix": "G-", "url": "https://help.gambar.example/community-rules"},
}


def statement(i: int, platform: str = "Contoh", **changes: str) -> dict[str, str]:
    """One statement as a full dump row: v2, a phishing post reported by a user, removed by a human, decided on
    2025-08-03 for content posted on 2025-08-01, in Malaysian territorial scope."""
    info = PLATFORMS.get(platform, {"prefix": "X-", "url": ""})
    row = {c: "" for c in FULL}
    row.update(
        uuid=f"00000000-0000-4000-8000-{i:012d}",
        decision_visibility='["DECISION_VISIBILITY_CONTENT_REMOVED"]',
        account_type="ACCOUNT_TYPE_PRIVATE",
        decision_ground="DECISION_GROUND_INCOMPATIBLE_CONTENT",
        decision_ground_reference_url=info["url"],
        incompatible_content_ground="Community Guidelines 4.2",
        incompatible_content_explanation="Link to a fake bank login page",
        incompatible_content_illegal="Yes",
        category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        category_addition="[]",
        category_specification='["KEYWORD_PHISHING"]',
        content_type='["CONTENT_TYPE_TEXT"]',
        content_language="MS",
        content_date="2025-08-01 00:00:00",
        territorial_scope='["MY"]',
        application_date="2025-08-03 00:00:00",
        decision_facts="Phishing link",
        source_type="SOURCE_ARTICLE_16",
        automated_detection="No",
        automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED",
        platform_name=platform,
        platform_uid=f"{info['prefix']}{i:06d}",
        created_at="2025-08-03 10:00:00",
    )
    row.update(changes)
    return row


def v1_statement(i: int, platform: str = "Contoh", **changes: str) -> dict[str, str]:
    """A statement of 2024 (schema v1): values valid in both schemas unless ``changes`` say otherwise."""
    base = dict(
        category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        category_specification='["KEYWORD_PHISHING"]',
        content_date="2024-10-01 00:00:00",
        application_date="2024-10-02 00:00:00",
        created_at="2024-10-02 08:00:00",
    )
    return statement(i, platform, **{**base, **changes})


def csv_text(rows: list[dict[str, str]], light: bool = False) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=LIGHT if light else FULL, quoting=csv.QUOTE_ALL, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def write_dump(path: Path, rows: list[dict[str, str]], light: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(rows, light), encoding="utf-8", newline="")
    return path


def write_zip_of_zips(path: Path, parts: list[list[dict[str, str]]], light: bool = False) -> Path:
    """The daily-dump packaging: an outer zip of inner zips (each with its CSV chunk), every zip with a .sha1."""
    stem = path.name.removesuffix(".zip")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as outer:
        for k, rows in enumerate(parts):
            inner = io.BytesIO()
            with zipfile.ZipFile(inner, "w", compression=zipfile.ZIP_DEFLATED) as iz:
                iz.writestr(f"{stem}-{k:05d}-00000.csv", csv_text(rows, light))
            data = inner.getvalue()
            outer.writestr(f"{stem}-{k:05d}.csv.zip", data)
            outer.writestr(
                f"{stem}-{k:05d}.csv.zip.sha1", f"{hashlib.sha1(data).hexdigest()}  {stem}-{k:05d}.csv.zip\n"
            )
    path.with_name(path.name + ".sha1").write_text(hashlib.sha1(path.read_bytes()).hexdigest() + "\n")
    return path


def multi_platform_rows() -> list[dict[str, str]]:
    """A global dump's day: 30 statements of Contoh, 25 of Gambar, decided on three days, one Gambar statement
    mislabelled as Contoh's (its platform_uid and reference URL are Gambar's)."""
    rows = []
    for i in range(1, 31):
        day = 3 + i % 3
        rows.append(
            statement(i, "Contoh", application_date=f"2025-08-0{day} 00:00:00", created_at=f"2025-08-0{day} 09:00:00")
        )
    for i in range(101, 126):
        rows.append(
            statement(
                i,
                "Gambar",
                category="STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
                category_specification="[]",
                incompatible_content_ground="Pornography or sexualised content",
                content_date="2023-05-01 00:00:00",
                application_date="2025-08-04 00:00:00",
                created_at="2025-08-04 11:00:00",
                content_type='["CONTENT_TYPE_IMAGE"]',
            )
        )
    rows.append(
        statement(
            999,
            "Contoh",
            platform_uid="G-000999",
            decision_ground_reference_url=PLATFORMS["Gambar"]["url"],
            application_date="2025-08-04 00:00:00",
        )
    )
    return rows
