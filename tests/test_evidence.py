"""Evidence uploads: checked by content and size, stored under generated names, scoped."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.errors import ConflictError, PermissionDeniedError, ValidationError
from engine.lifecycle.definition import SubjectKind
from engine.lifecycle.fire import fire
from engine.models import Evidence
from engine.work import evidence

OCC = SubjectKind.OCCURRENCE


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.4 ...", evidence.PDF),
        (b"\x89PNG\r\n\x1a\n....", evidence.PNG),
        (b"\xff\xd8\xff\xe0....", evidence.JPEG),
        (_zip("[Content_Types].xml", "word/document.xml"), evidence.DOCX),
        (_zip("[Content_Types].xml", "xl/workbook.xml"), evidence.XLSX),
        (_zip("evil.sh"), None),
        (b"PK\x03\x04 broken zip", None),
        (b"MZ\x90\x00", None),
        (b"<html><script>", None),
    ],
)
def test_content_type_is_judged_by_bytes(data: bytes, expected: str | None) -> None:
    assert evidence.sniff_content_type(data) == expected


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\акт.pdf", "акт.pdf"),
        ("..", "file"),
        ("", "file"),
        ("отчёт\x00.pdf", "отчёт.pdf"),
    ],
)
def test_names_lose_their_path_tricks(name: str, cleaned: str) -> None:
    assert evidence.clean_name(name) == cleaned


def _attach(world, registry, tmp_path, login, data, name="акт.pdf", occ=None, max_bytes=1000):
    with unit_of_work(world.engine) as session:
        return evidence.attach(
            session,
            registry,
            tmp_path,
            OCC,
            occ or world.occurrence_a,
            world.actor(login),
            filename=name,
            data=data,
            max_bytes=max_bytes,
        )


def _start(world, registry, occ, login) -> None:
    with unit_of_work(world.engine) as session:
        fire(session, registry, OCC, occ, "start", world.actor(login))


def test_stored_under_a_generated_name_with_checksum(world, registry, tmp_path) -> None:
    _start(world, registry, world.occurrence_a, "school_a")
    data = b"%PDF-1.4 signed act"
    saved = _attach(world, registry, tmp_path, "school_a", data, name="../../акт №1.pdf")
    path = evidence.storage_path(tmp_path, saved.stored_name)
    assert path.read_bytes() == data
    assert saved.original_name == "акт №1.pdf"
    assert saved.stored_name != saved.original_name and len(saved.stored_name) == 32
    assert saved.sha256 == hashlib.sha256(data).hexdigest()
    assert saved.content_type == evidence.PDF and saved.size_bytes == len(data)


def test_refused_uploads_write_no_row(world, registry, tmp_path) -> None:
    _start(world, registry, world.occurrence_a, "school_a")
    with pytest.raises(ValidationError, match="over the limit"):
        _attach(world, registry, tmp_path, "school_a", b"%PDF-" + b"x" * 2000)
    with pytest.raises(ValidationError, match="empty"):
        _attach(world, registry, tmp_path, "school_a", b"")
    with pytest.raises(ValidationError, match="only PDF"):
        _attach(world, registry, tmp_path, "school_a", b"#!/bin/sh", name="акт.pdf")
    with pytest.raises(PermissionDeniedError):
        _attach(world, registry, tmp_path, "school_b", b"%PDF-1.4")
    with pytest.raises(PermissionDeniedError):
        _attach(world, registry, tmp_path, "curator_a", b"%PDF-1.4")
    with unit_of_work(world.engine, readonly=True) as session:
        assert session.execute(select(Evidence.id)).first() is None


def test_no_files_once_the_work_is_reported(world, registry, tmp_path) -> None:
    with pytest.raises(ConflictError, match="'planned'"):  # the state, not the file: 409
        _attach(world, registry, tmp_path, "school_a", b"%PDF-1.4")
    _start(world, registry, world.occurrence_a, "school_a")
    _attach(world, registry, tmp_path, "school_a", b"%PDF-1.4")
    with unit_of_work(world.engine) as session:
        fire(session, registry, OCC, world.occurrence_a, "report", world.actor("school_a"))
    with pytest.raises(ConflictError, match="'reported'"):
        _attach(world, registry, tmp_path, "school_a", b"%PDF-1.4 late")


def test_the_limit_is_inclusive_and_each_refusal_names_its_reason(
    world, registry, tmp_path
) -> None:
    _start(world, registry, world.occurrence_a, "school_a")
    exact = b"%PDF-1.4" + b"x" * 992  # 1,000 bytes: at the limit, so accepted
    assert _attach(world, registry, tmp_path, "school_a", exact, max_bytes=1000).size_bytes == 1000
    refusals = [
        (exact + b"x", "file_too_large"),
        (b"", "file_empty"),
        (b"MZ\x90\x00 not a document", "file_type"),
    ]
    for data, reason in refusals:
        with pytest.raises(ValidationError) as refused:
            _attach(world, registry, tmp_path, "school_a", data, max_bytes=1000)
        assert refused.value.reason == reason
    with unit_of_work(world.engine) as session:
        fire(session, registry, OCC, world.occurrence_a, "report", world.actor("school_a"))
    with pytest.raises(ConflictError) as late:
        _attach(world, registry, tmp_path, "school_a", exact)
    assert late.value.reason == "files_not_accepted"


def test_a_name_keeps_only_its_last_part_and_loses_leading_dots(world, registry, tmp_path) -> None:
    _start(world, registry, world.occurrence_a, "school_a")
    saved = _attach(world, registry, tmp_path, "school_a", b"%PDF-1.4", name="a/b/c\\..акт.pdf.")
    assert saved.original_name == "акт.pdf."
    long = _attach(world, registry, tmp_path, "school_a", b"%PDF-1.4", name="я" * 300 + ".pdf")
    assert len(long.original_name) == 255


def test_the_orphan_scan_removes_every_old_orphan_and_nothing_else(
    world, registry, tmp_path
) -> None:
    import os
    from datetime import timedelta

    from engine.models import utcnow

    _start(world, registry, world.occurrence_a, "school_a")
    known = _attach(world, registry, tmp_path, "school_a", b"%PDF-1.4 kept")
    known_path = evidence.storage_path(tmp_path, known.stored_name)
    cutoff = utcnow() - timedelta(hours=1)
    old, at_cutoff = cutoff.timestamp() - 60, cutoff.timestamp()
    orphans = [tmp_path / f"{n:02d}" / f"{n:02d}orphan{n}" for n in range(10, 15)]
    young = [tmp_path / f"{n:02d}" / f"{n:02d}young{n}" for n in range(10, 15)]
    part = known_path.with_name(known_path.name + ".part")  # a write that never finished
    boundary = tmp_path / "20" / "20boundary"
    for path in (*orphans, *young, part, boundary):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    for path in (*orphans, part, known_path):
        os.utime(path, (old, old))
    os.utime(boundary, (at_cutoff, at_cutoff))
    with unit_of_work(world.engine, readonly=True) as session:
        removed = evidence.remove_orphans(session, tmp_path, cutoff)
    assert removed == len(orphans) + 1
    assert not any(p.exists() for p in (*orphans, part))
    assert known_path.exists() and boundary.exists() and all(p.exists() for p in young)
