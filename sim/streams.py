"""Each run's random numbers, drawn for many runs at once: the same as ``default_rng(seed)``.

A run draws from ``numpy.random.default_rng(seed)``, a PCG64 generator seeded through
``SeedSequence(seed)``. Building one such generator costs tens of microseconds, mostly
``SeedSequence`` hashing the seed, which would be a large part of a short run. Here the
hash is computed for all seeds at once with numpy's own algorithm (O'Neill's
``seed_seq_fe``, as ``numpy.random.SeedSequence`` implements it), and one PCG64 generator
is moved to each run's start state in turn. The numbers are bit for bit those of
``default_rng(seed)``; a self-check against numpy at first use falls back to
``default_rng`` if a numpy release ever changes the seeding.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

INIT_A, MULT_A, INIT_B, MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
MIX_MULT_L, MIX_MULT_R, XSHIFT, MASK32 = 0xCA01F9DD, 0x4973F715, 16, 0xFFFFFFFF
PCG_MULT = 0x2360ED051FC65DA44385DF649FCCF645  # PCG's default 128-bit multiplier
MASK128 = (1 << 128) - 1


def seed_states(seeds: np.ndarray) -> np.ndarray:
    """``[R, 4]`` uint64: ``SeedSequence(seed).generate_state(4, np.uint64)`` for seeds in [0, 2**64)."""
    s = np.asarray(seeds).astype(np.uint64)
    entropy = [
        (s & np.uint64(MASK32)).astype(np.uint32),
        (s >> np.uint64(32)).astype(np.uint32),
        np.zeros(s.shape, np.uint32),
        np.zeros(s.shape, np.uint32),
    ]  # a pool of 4 words
    hash_a = INIT_A

    def hashmix(v):
        nonlocal hash_a
        v = v ^ np.uint32(hash_a)
        hash_a = (hash_a * MULT_A) & MASK32
        v = v * np.uint32(hash_a)
        return v ^ (v >> np.uint32(XSHIFT))

    def mix(x, y):
        r = np.uint32(MIX_MULT_L) * x - np.uint32(MIX_MULT_R) * y
        return r ^ (r >> np.uint32(XSHIFT))

    with np.errstate(over="ignore"):  # uint32 arithmetic wraps, as in the C original
        pool = [hashmix(e) for e in entropy]
        for i_src in range(4):
            for i_dst in range(4):
                if i_src != i_dst:
                    pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
        hash_b = INIT_B
        words = []
        for i in range(8):
            v = pool[i % 4] ^ np.uint32(hash_b)
            hash_b = (hash_b * MULT_B) & MASK32
            v = v * np.uint32(hash_b)
            words.append(v ^ (v >> np.uint32(XSHIFT)))
    w = np.ascontiguousarray(np.stack(words, axis=-1).astype("<u4"))
    return w.view("<u8").astype(np.uint64)


def pcg64_state(words: np.ndarray) -> dict:
    """The PCG64 ``state`` dict that ``PCG64(SeedSequence(seed))`` starts from, given its 4 words."""
    init_state = (int(words[0]) << 64) | int(words[1])
    init_seq = (int(words[2]) << 64) | int(words[3])
    inc = ((init_seq << 1) | 1) & MASK128
    state = (inc + init_state) & MASK128  # one step from 0, then add the initial state
    state = (state * PCG_MULT + inc) & MASK128  # and one more step
    return {"bit_generator": "PCG64", "state": {"state": state, "inc": inc}, "has_uint32": 0, "uinteger": 0}


@lru_cache(maxsize=1)
def _fast_ok() -> bool:
    """Whether the fast seeding agrees with this numpy (checked once, on a few seeds)."""
    probe = np.array([0, 1, 12345, 2**32 + 7, 2**63 - 1], dtype=np.uint64)
    for s, words in zip(probe, seed_states(probe), strict=True):
        if np.random.PCG64(np.random.SeedSequence(int(s))).state != pcg64_state(words):
            return False
    return True


def draw_many(seeds, draw) -> list:
    """``[draw(default_rng(seed)) for seed in seeds]``, without building a generator per seed.

    Args:
        draw: a function of one generator, e.g. ``sim.kernel.draw_run`` with its sizes bound.
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    if seeds.size == 0 or (seeds < 0).any() or not _fast_ok():
        return [draw(np.random.default_rng(int(s))) for s in seeds]
    bit_gen = np.random.PCG64(0)
    gen = np.random.Generator(bit_gen)
    out = []
    for words in seed_states(seeds):  # one stream per run: moving the generator is per run
        bit_gen.state = pcg64_state(words)
        out.append(draw(gen))
    return out
