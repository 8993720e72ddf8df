"""Building blocks of the ``dedup.*`` stages.

* :mod:`curate.dedup.textnorm`: vectorised text normalisation for exact and paragraph hashing.
* :mod:`curate.dedup.tokens`: tokens and shingles of one text, token and shingle hashes.
* :mod:`curate.dedup.shingles`: word or character n-gram hashes for whole batches.
* :mod:`curate.dedup.signatures`: MinHash signatures (datasketch-compatible) and LSH band keys.
* :mod:`curate.dedup.lsh`: choosing bands x rows for a threshold, and the S-curve.
* :mod:`curate.dedup.exact_part`, :mod:`curate.dedup.minhash_part`: the stages' map phases.
* :mod:`curate.dedup.decisions`: per-row decisions, applied part by part.
* :mod:`curate.dedup.clusters`: near-duplicate clusters from bands and signatures.
* :mod:`curate.dedup.unionfind`: connected components of duplicate edges.
* :mod:`curate.dedup.candidates`: band groups to candidate edges, verification, keep policies.
"""
