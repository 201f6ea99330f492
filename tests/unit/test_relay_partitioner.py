"""The relay places each key on the partition aiokafka's default partitioner would: keys never move partitions."""

from __future__ import annotations

import random

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from simpul_platform.relay import murmur2


def test_murmur2_equals_aiokafka_for_keys_of_every_length() -> None:
    draw = random.Random(20261201)
    keys = [draw.randbytes(draw.randint(0, 64)) for _ in range(5_000)]
    keys += [f"chd_{draw.getrandbits(64):016x}".encode() for _ in range(5_000)]
    assert [murmur2(key) for key in keys] == [aiokafka_murmur2(key) for key in keys]


def test_partition_equals_the_default_partitioner() -> None:
    draw = random.Random(7)
    for count in (1, 3, 12):
        partitions = list(range(count))
        for _ in range(500):
            key = f"per_{draw.getrandbits(96):024x}".encode()
            ours = partitions[(murmur2(key) & 0x7FFFFFFF) % count]
            assert ours == DefaultPartitioner()(key, partitions, partitions)
