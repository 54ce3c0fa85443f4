"""Evidence files: validated by content, stored on disk under generated names, checksummed."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import zipfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from engine.accounts.access import Actor, require_reach
from engine.db import on_rollback
from engine.errors import ConflictError, PermissionDeniedError, ValidationError
from engine.lifecycle.definition import SubjectKind, WorkflowRegistry
from engine.lifecycle.fire import SubjectRef, load_subject
from engine.lifecycle.statements import LINK_COLUMN
from engine.models import Evidence, utcnow

#: Content types accepted as evidence, told apart by their first bytes, never by name.
PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sniff_content_type(data: bytes) -> str | None:
    """The accepted content type of `data`, judged by its bytes; None if not accepted."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            if "word/document.xml" in names:
                return DOCX
            if "xl/workbook.xml" in names:
                return XLSX
    return None


def require_worked_on(
    session: Session,
    registry: WorkflowRegistry,
    kind: SubjectKind,
    subject_id: int,
    actor: Actor,
    doing: str,
    taken: str,
    reason: str,
) -> SubjectRef:
    """The subject, if `actor` is of its assignee and it is in a state its assignee works in
    (a rule from it checks for evidence); else the error saying which: `doing` is what only
    its assignee does, `taken` what only its working states take, with `reason`."""
    ref = load_subject(session, kind, subject_id)
    require_reach(session, actor, ref.owner_id, f"{kind} {subject_id}")
    if actor.organization_id != ref.owner_id:
        raise PermissionDeniedError(f"only the assignee of {kind} {subject_id} {doing}")
    definition = registry.get(ref.workflow_name, ref.workflow_version).definition
    if not definition.accepts_evidence(ref.state):
        raise ConflictError(
            f"{kind} {subject_id} is '{ref.state}'; {taken} only while it is worked on",
            reason=reason,
        )
    return ref


def clean_name(filename: str) -> str:
    """The base name of an uploaded file, with path parts and control characters dropped."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:255] or "file"


def attach(
    session: Session,
    registry: WorkflowRegistry,
    storage_dir: Path,
    kind: SubjectKind,
    subject_id: int,
    actor: Actor,
    *,
    filename: str,
    data: bytes,
    max_bytes: int,
) -> Evidence:
    """Store one file as evidence of a subject, in the caller's transaction."""
    ref = require_worked_on(
        session,
        registry,
        kind,
        subject_id,
        actor,
        "attaches evidence",
        "files are attached",
        "files_not_accepted",
    )
    name = clean_name(filename)
    if not data:
        raise ValidationError(f"{name}: the file is empty", reason="file_empty")
    if len(data) > max_bytes:
        raise ValidationError(
            f"{name}: {len(data)} bytes is over the limit of {max_bytes}", reason="file_too_large"
        )
    content_type = sniff_content_type(data)
    if content_type is None:
        raise ValidationError(
            f"{name}: only PDF, DOCX, XLSX, JPG and PNG files are accepted", reason="file_type"
        )
    stored_name = secrets.token_hex(16)
    path = storage_path(storage_dir, stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    on_rollback(session, lambda: path.unlink(missing_ok=True))  # no file without its row
    evidence = Evidence(
        original_name=name,
        stored_name=stored_name,
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor.id,
        uploaded_at=utcnow(),
        **{LINK_COLUMN[kind]: ref.id},
    )
    session.add(evidence)
    session.flush()
    return evidence


def storage_path(storage_dir: Path, stored_name: str) -> Path:
    """Where the bytes of `stored_name` live: fanned out by its first two characters."""
    return storage_dir / stored_name[:2] / stored_name


def remove_orphans(session: Session, storage_dir: Path, older_than: datetime) -> int:
    """Delete stored files that no evidence row names and that are older than `older_than`
    (a process killed between writing a file and its commit); return how many."""
    if not storage_dir.is_dir():
        return 0
    cutoff = older_than.timestamp()
    removed = 0
    for path in storage_dir.glob("??/*"):
        if not path.is_file() or path.stat().st_mtime >= cutoff:
            continue
        stored = path.name.removesuffix(".part")
        known = session.execute(
            select(Evidence.id).where(Evidence.stored_name == stored).limit(1)
        ).first()
        if known is None or path.suffix == ".part":
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def remove_stale_uploads(upload_dir: Path, older_than: datetime) -> int:
    """Delete roadmap documents uploaded for a preview and never confirmed; return how many."""
    if not upload_dir.is_dir():
        return 0
    cutoff = older_than.timestamp()
    removed = 0
    for path in upload_dir.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
