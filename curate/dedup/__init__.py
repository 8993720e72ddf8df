"""Building blocks of the ``dedup.*`` stages.

* :mod:`curate.dedup.textnorm`: vectorised text normalisation for exact and paragraph hashing.
* :mod:`curate.dedup.tokens`: tokens and shingles of one text, token and shingle hashes.
* :mod:`curate.dedup.shingles`: word or character n-gram hashes for whole batches.
* :mod:`curate.dedup.signatures`: MinHash signatures (datasketch-compatible) and LSH band keys.
* :mod:`curate.dedup.lsh`: choosing bands x rows for a threshold, and the S-curve.
* :mod:`curate.dedup.spill`: the input spill, Parquet partitions and id look-ups on disk.
* :mod:`curate.dedup.pool`: running per-part work on ``workers`` processes.
* :mod:`curate.dedup.unionfind`: connected components of duplicate edges.
* :mod:`curate.dedup.candidates`: band groups to candidate edges, verification, keep policies.
"""
