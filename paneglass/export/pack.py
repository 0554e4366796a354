"""The exit pack: all of one vendor's history as files, for a new vendor (or a new store).

``paneglass export --vendor NAME --what all --format jsonl --output DIR``
writes one JSON Lines file per kind (``tickets.jsonl``, ``events.jsonl``,
``conversations.jsonl``, ``attachments.jsonl``, ``sla.jsonl``,
``links.jsonl``, ``audit.jsonl``: one JSON object a line, times ISO 8601
UTC) and ``manifest.json``: what the pack holds (counts per kind, the time
range, the vendors it names), which paneglass and schema wrote it, and each
file's SHA-256. ``paneglass import DIR`` restores a pack into a store, all
of it in one transaction or nothing, after checking the manifest and every
file's checksum; a bad pack is refused with one line naming the problem.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paneglass import __version__
from paneglass.export.formats import iso
from paneglass.store import PACK_TIMES, PackError, Store

__all__ = [
    "MANIFEST",
    "PACK_FORMAT",
    "PACK_VERSION",
    "Pack",
    "PackError",
    "read_pack",
    "restore_pack",
    "write_pack",
]

PACK_FORMAT = "paneglass exit pack"
PACK_VERSION = 1
"""Bumped when a pack's shape changes in a way an older importer would misread."""
MANIFEST = "manifest.json"
KINDS = ("tickets", "events", "conversations", "attachments", "sla", "links", "audit")


def _line(row: Mapping[str, Any]) -> str:
    return json.dumps({k: iso(v) for k, v in row.items()}, ensure_ascii=False, sort_keys=True)


def write_pack(store: Store, vendor: str, folder: Path) -> dict[str, Any]:
    """Write ``vendor``'s exit pack into ``folder`` (created); return the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    sums: dict[str, str] = {}
    first: datetime | None = None
    last: datetime | None = None
    for kind in KINDS:
        digest = hashlib.sha256()
        count = 0
        with (folder / f"{kind}.jsonl").open("w", encoding="utf-8", newline="\n") as out:
            for row in store.iter_pack(kind, vendor):
                line = _line(row) + "\n"
                out.write(line)
                digest.update(line.encode("utf-8"))
                count += 1
                if kind in ("tickets", "conversations"):
                    for name in ("created_at", "updated_at"):
                        at = row.get(name)
                        if isinstance(at, datetime):
                            first = at if first is None or at < first else first
                            last = at if last is None or at > last else last
        counts[kind] = count
        sums[f"{kind}.jsonl"] = digest.hexdigest()
    manifest = {
        "format": PACK_FORMAT,
        "pack_version": PACK_VERSION,
        "paneglass_version": __version__,
        "schema_version": store.schema_version(),
        "exported_at": iso(datetime.now(UTC)),
        "vendor": vendor,
        "vendors": store.pack_vendors(vendor),
        "counts": counts,
        "time_range": {"from": iso(first), "to": iso(last)},
        "files": sums,
    }
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return manifest


@dataclass(frozen=True)
class Pack:
    """A pack on disk, its manifest checked; rows are read lazily, a line at a time."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def vendor(self) -> str:
        """The vendor the pack is about (as it was named where it was made)."""
        return str(self.manifest["vendor"])

    def rows(self, kind: str, rename: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        """The rows of one kind, times parsed, vendor names renamed."""
        path = self.folder / f"{kind}.jsonl"
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    raise PackError(f"{path.name} line {number}: not JSON") from None
                if not isinstance(row, dict):
                    raise PackError(f"{path.name} line {number}: not a JSON object")
                yield _restored(row, rename, f"{path.name} line {number}")


def _restored(row: dict[str, Any], rename: Mapping[str, str], where: str) -> dict[str, Any]:
    for name in PACK_TIMES & row.keys():  # ISO 8601 in the files, datetimes in the store
        value = row[name]
        if value is None:
            continue
        try:
            at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise PackError(f"{where}: {name} is not an ISO 8601 time: {value!r}") from None
        if at.tzinfo is None:
            raise PackError(f"{where}: {name} has no time zone: {value!r}")
        row[name] = at.astimezone(UTC)
    for name in ("vendor", "from_vendor", "to_vendor"):
        if row.get(name) in rename:
            row[name] = rename[row[name]]
    return row


def read_pack(folder: Path, *, current_schema: str | None = None) -> Pack:
    """Open a pack: the manifest must be one, and every file must match its checksum."""
    path = folder / MANIFEST
    if not path.is_file():
        raise PackError(f"{folder} is not an exit pack: it has no {MANIFEST}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise PackError(f"{path} is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != PACK_FORMAT:
        raise PackError(f"{path} is not a paneglass exit pack manifest")
    version = manifest.get("pack_version")
    if not isinstance(version, int) or version > PACK_VERSION:
        raise PackError(
            f"the pack is version {version}; this paneglass ({__version__}) reads up to "
            f"{PACK_VERSION}: upgrade paneglass"
        )
    schema = manifest.get("schema_version")
    if current_schema is not None and isinstance(schema, str) and schema > current_schema:
        raise PackError(f"the pack comes from schema {schema}, newer than this store's")
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != {f"{k}.jsonl" for k in KINDS}:
        raise PackError(f"{path} does not list the pack's {len(KINDS)} files")
    for name, expected in files.items():
        file = folder / name
        if not file.is_file():
            raise PackError(f"{name} is missing from the pack")
        digest = hashlib.sha256()
        with file.open("rb") as data:
            while chunk := data.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != expected:
            raise PackError(f"{name} does not match the manifest's checksum (changed or cut)")
    vendors = manifest.get("vendors")
    if not isinstance(vendors, list) or not any(
        isinstance(v, dict) and v.get("name") == manifest.get("vendor") for v in vendors
    ):
        raise PackError(f"{path} does not describe the pack's vendor")
    return Pack(folder, manifest)


def restore_pack(store: Store, pack: Pack, name: str | None = None) -> dict[str, int]:
    """Restore ``pack`` into ``store`` (as vendor ``name`` when given); return rows per kind."""
    rename = {pack.vendor: name} if name and name != pack.vendor else {}
    vendors: list[Mapping[str, Any]] = [
        {**v, "name": rename.get(str(v["name"]), v["name"])} for v in pack.manifest["vendors"]
    ]
    rows = {kind: pack.rows(kind, rename) for kind in KINDS}
    return store.restore_pack(rename.get(pack.vendor, pack.vendor), vendors, rows)
