#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_core (tests/native/corpus/): a few short, readable
operation sequences that reach every operation, both page-bitmap layouts, radix
boundaries, the ceiling, the end of the indexed address space and allocator failures.
The fuzzer mutates from there. Rerun after changing the input format of fuzz_core.c:

    python3 tests/native/make_corpus.py
"""
import os
import struct

(PREPARE, PUBLISH, DISCARD, COMMIT, DECOMMIT, RETIRE, CHARGE, UNCHARGE, LOOKUP,
 INSERT, REMOVE, FAIL, FORCE_LOW) = range(13)

PAGE_4K, PAGE_8K, PAGE_16K, PAGE_64K = range(4)
UNLIMITED = 0xFFFF
TO_END = 0xFFFF


def header(page, ceiling_quarter_pages, high=90, low=60):
    # high = 50 + b % 51, low = 1 + b % (high - 1)
    return bytes([page]) + struct.pack("<H", ceiling_quarter_pages) + bytes([high - 50, low - 1])


def prepare(slot, pages, trim=0, base_granules=0, commit=False):
    return struct.pack("<BBHHBB", PREPARE, slot, pages - 1, trim, base_granules, int(commit))


def publish(slot):
    return bytes([PUBLISH, slot])


def discard(slot):
    return bytes([DISCARD, slot])


def commit(slot, start, length, at=0):
    """start: 0..0xFFFF over [a page before the region, a page after it]; length: 1/32768
    of that span per unit; TO_END: to the end of the region."""
    return struct.pack("<BBHHH", COMMIT, slot, start, length, at)


def decommit(slot, start, length, at=0):
    return struct.pack("<BBHHH", DECOMMIT, slot, start, length, at)


def retire(slot, at=0x8000):
    return struct.pack("<BBH", RETIRE, slot, at)


def charge(units):
    return struct.pack("<BH", CHARGE, units)


def uncharge(units):
    return struct.pack("<BH", UNCHARGE, units)


def lookup(area, offset, scale=7):
    return struct.pack("<BBHB", LOOKUP, area, offset, scale)


def insert(key, size):
    return struct.pack("<BBH", INSERT, key, size)


def remove(key):
    return bytes([REMOVE, key])


def fail(nth, blocks=False):
    return bytes([FAIL, (nth - 1) | (0x80 if blocks else 0)])


def force_low():
    return bytes([FORCE_LOW])


SEEDS = {
    # Small (inline bitmap) and large regions, commits and decommits that overlap,
    # ranges that run past either end, retire with pages still committed.
    "lifecycle": header(PAGE_4K, UNLIMITED)
    + prepare(0, 64, trim=100) + publish(0)
    + commit(0, 0, 0x4000) + commit(0, 0x2000, 0x4000) + decommit(0, 0x3000, 0x100)
    + prepare(1, 65, commit=True) + publish(1)
    + decommit(1, 0, TO_END) + commit(1, 0x7FFF, 0x10)
    + lookup(0, 0x10) + lookup(1, 0x20) + lookup(2, 0)
    + retire(0) + retire(1, at=0)
    + prepare(0, 600, base_granules=3) + publish(0) + commit(0, 0, 0x7FFF) + retire(0),
    # A ceiling of 40 pages: a committed region of 30, another of 20 is refused, then
    # commits up to the ceiling, foreign charges, a forced Low.
    "ceiling": header(PAGE_64K, 160, high=80, low=50)
    + prepare(0, 30, commit=True) + publish(0)
    + prepare(1, 20, commit=True) + publish(1)
    + prepare(2, 20) + publish(2) + commit(2, 0, 0x6000) + commit(2, 0, 0x8000)
    + charge(1000) + force_low() + uncharge(1000)
    + decommit(0, 0, TO_END) + commit(2, 0, TO_END) + force_low()
    + retire(2) + retire(0),
    # Allocator failures: the page bitmap, each radix node, the block table; a
    # discarded region.
    "faults": header(PAGE_16K, UNLIMITED)
    + fail(1) + prepare(0, 300) + prepare(0, 300) + fail(1) + publish(0)
    + prepare(0, 300) + fail(2) + publish(0) + prepare(0, 300) + publish(0)
    + prepare(3, 10) + discard(3)
    + fail(1, blocks=True) + insert(1, 10) + insert(1, 10) + remove(1),
    # Regions across a top-level radix boundary (64 GiB) and a leaf boundary; one that
    # would cross 2^47 (refused), one that ends just below it.
    "boundaries": header(PAGE_64K, UNLIMITED)
    + prepare(5, 600, base_granules=255) + publish(5)
    + prepare(5, 512) + publish(5) + lookup(5, 0xFFFF, 7) + retire(5)
    + prepare(0, 600, base_granules=255, commit=True) + publish(0)
    + prepare(1, 600, base_granules=255) + publish(1) + commit(1, 0x7000, 0x2000)
    + lookup(0, 0x8000, 9) + lookup(0, 0x7FFF, 10) + lookup(1, 0xFFFF, 10)
    + lookup(0, 0, 0) + lookup(0, 5, 1) + lookup(0, 5, 2)
    + retire(0, at=0xFFFF) + retire(1),
    # Block table: enough inserts to grow it, clustered removes, re-inserts.
    "blocks": header(PAGE_4K, 1000)
    + b"".join(insert(k, k * 3) for k in range(0, 120))
    + b"".join(remove(k) for k in range(0, 120, 3))
    + b"".join(insert(k, 7) for k in range(0, 60, 3))
    + b"".join(remove(k) for k in range(1, 120, 2)),
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
