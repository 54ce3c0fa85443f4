"""A region's directory and people at national scale: 5,000 schools and about 20,000 people,
imported from CSV files as a ministry would send them, then imported again unchanged, and the
people list read a page at a time. Reports seconds; no test asserts them.

python -m bench.directory [--schools 5000]      (make bench-directory)
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from pathlib import Path

from bench.data import fresh_database
from engine.db import make_engine, unit_of_work
from engine.directory.people import apply_people, plan_people, read_people
from engine.directory.schools import apply_directory, plan_directory, read_directory
from engine.models import Role
from engine.readmodels.directory import people_page

MUNICIPALITIES = 50
SCHOOLS_PER_CURATOR = 10
STAFF_PER_SCHOOL = 4
_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)


def inn(n: int) -> str:
    head = f"77{n:07d}"
    return head + str(sum(int(d) * w for d, w in zip(head, _WEIGHTS, strict=True)) % 11 % 10)


def write_files(folder: Path, schools: int) -> tuple[Path, Path, int]:
    """The directory and the people files; how many people."""
    directory = folder / "реестр.csv"
    with directory.open("w", encoding="cp1251", newline="") as handle:
        out = csv.writer(handle, delimiter=";")
        out.writerow(["Субъект", "Муниципальное образование", "Полное наименование ОО",
                      "Краткое наименование", "ИНН", "Статус"])  # fmt: skip
        for n in range(schools):
            out.writerow(["Регион", f"Район {n % MUNICIPALITIES + 1}",
                          f"МБОУ «Средняя общеобразовательная школа № {n + 1}»", f"СОШ № {n + 1}",
                          inn(n), "ШНОР 2025" if n % 3 else "500+ 2024"])  # fmt: skip
    people = folder / "пользователи.csv"
    count = 0
    with people.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, delimiter=";")
        out.writerow(["ФИО", "Роль", "E-mail", "Организация", "Школы"])
        for m in range(MUNICIPALITIES):
            out.writerow([f"Координатор {m}", "муниципальный координатор",
                          f"coord{m}@example.org", f"Район {m + 1}", ""])  # fmt: skip
            count += 1
        for c in range(schools // SCHOOLS_PER_CURATOR):
            own = "; ".join(inn(n) for n in range(c * 10, c * 10 + SCHOOLS_PER_CURATOR))
            out.writerow([f"Куратор {c}", "куратор", f"curator{c}@example.org", "", own])
            count += 1
        for n in range(schools):
            for k in range(STAFF_PER_SCHOOL):
                role = "директор" if k == 0 else "заместитель директора"
                out.writerow([f"Сотрудник {n}-{k}", role, f"s{n}.{k}@example.org", inn(n), ""])
                count += 1
    return directory, people, count


def timed(what: str, results: dict[str, float], action) -> object:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = action()
    results[what] = time.perf_counter() - started
    print(f"  {what}: {results[what]:.2f} s", flush=True)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=5000)
    args = parser.parse_args()
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        directory, people, count = write_files(Path(folder), args.schools)
        print(f"{args.schools} schools, {count} people; PostgreSQL", flush=True)
        engine = make_engine(fresh_database("roadmap_bench_directory"))

        def load_directory() -> None:
            rows = read_directory(directory)
            with unit_of_work(engine) as session:
                apply_directory(session, plan_directory(session, rows, directory.name), "bench")

        def load_people(dry_run: bool = False) -> None:
            with unit_of_work(engine, readonly=dry_run) as session:
                plan = plan_people(session, read_people(session, people), people.name)
                if not dry_run:
                    apply_people(session, plan, "bench", "http://bench.invalid")

        timed("directory: first import", results, load_directory)
        timed("directory: the same file again", results, load_directory)
        timed("people: dry run", results, lambda: load_people(True))
        timed("people: first import, with invitations", results, load_people)
        timed("people: the same file again", results, load_people)
        for label, search in (("a page of school staff", None), ("a search", "сотрудник 4")):
            pages = []
            for page in range(1, 21):
                started = time.perf_counter()
                with unit_of_work(engine, readonly=True) as session:
                    people_page(session, Role.SCHOOL, search, 50, (page - 1) * 50)
                pages.append(time.perf_counter() - started)
            results[f"people list: {label} (p50)"] = statistics.median(pages)
            print(f"  people list, {label} (p50): {statistics.median(pages) * 1000:.1f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
