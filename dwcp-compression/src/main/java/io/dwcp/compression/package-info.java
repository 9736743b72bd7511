/**
 * HDE, the hierarchical delta encoder: a lossless page-level delta + zstd codec for VM state. The only public
 * type is {@link io.dwcp.compression.HdeCodecProvider}, registered for {@link java.util.ServiceLoader} as {@code hde};
 * everything else is package-private engine code. The wire format is documented in {@code docs/hde-wire-format.md}.
 *
 * <h2>Design decisions</h2>
 * <ul>
 *   <li><b>Page classes</b>: zero; unchanged (not sent); moved (content-hash index over the baseline, confirmed
 *   by byte comparison); duplicate of an earlier page of the round (first occurrence wins, so the output does not
 *   depend on threads); XOR + zero-run delta against the same-offset baseline page when it is below 3/4 of a page
 *   (after a 64-word sampled pre-test), else against the baseline page that shares most content anchors
 *   ({@link io.dwcp.compression.Anchors}, an edited copy of another page); else literal. The anchor index costs about
 *   48 MiB of heap per GiB of baseline (4 KiB pages), on the sender only, built on the first delta and updated
 *   as deltas are acknowledged; it raised the ratio on the corpus pairs s0→s1/s5/s30 by 2.9 / 6.3 / 1.3 %. Then zstd over batches of {@code batch-size} raw bytes. A zstd
 *   raw-content dictionary made of the same-offset baseline pages was measured on the s0→s30 corpus pair and saved
 *   1.3 % of the literal bytes at 2.6× their compression time, so it is not used (see the report of issue 3).</li>
 *   <li><b>SPLICE</b> (sub-page copies from the baseline and from the round's earlier pages) is a trade of CPU for
 *   bytes. {@code splice=auto} turns it on from 4 codec threads and, with fewer, in the rounds whose zstd level is 3
 *   or more: the level controller spends CPU on ratio only where the link is the bottleneck (and uses the ceiling when
 *   there is no link rate). Such a delta round cuts its batches at 4 × {@code batch-size}, a larger zstd window for
 *   the pages it leaves literal.</li>
 *   <li><b>Baselines</b> are page-granular off-heap stores (4 MiB direct chunks) plus one 64-bit hash per page;
 *   never a whole-state {@code byte[]}. {@code baseline.max-memory} bounds the direct memory of retained plus reserved
 *   baselines; a state of exactly the cap fits (the comparison is ≤). A baseline that does not fit goes to a deleted
 *   temporary file and is kept all the same (file-backed baselines, like the receiver's replica mapping and the
 *   sender's snapshot views, take none of the cap), so states of any size get delta rounds. Chunks of released stores are recycled (at most the cap)
 *   so that a keyframe does not pay for fresh memory; the pool is emptied on stop.</li>
 *   <li><b>Staging</b>: a keyframe decodes straight into the page store that becomes the receiver's next
 *   baseline (direct memory when old + new fit the cap, else a temporary file that becomes the baseline), so a
 *   multi-GiB keyframe needs no second copy in memory; a delta decodes its pages into direct memory (bounded by the
 *   pages that changed). The replica is written and the baseline changed only after every CRC32C and the state digest
 *   verified; a failed decode frees the scratch and leaves replica and baseline as they were. A replica write that
 *   fails half-way leaves the baseline unchanged and is reported as {@code IO_ERROR}.</li>
 *   <li><b>Digest</b>: the sum of per-page mixed hashes, updatable in time proportional to the changed pages, so both
 *   ends verify a 1 GiB state after a delta without re-reading it.</li>
 *   <li><b>Threads</b>: scanning and batch coding run on the codec's worker pool ({@code context.workerThreads()});
 *   decoding of batches too, with duplicates of earlier batches resolved in slot order at the end of the round.</li>
 *   <li><b>Not implemented</b>: trained dictionaries (there are no dictionary keys, and frames carry dictionary
 *   id 0: a 112 KiB dictionary trained on 1000 pages of another snapshot of the corpus guest
 *   changed the size of 1 MiB zstd batches by less than 0.1 % and slowed zstd by 5–25 %), baseline persistence,
 *   LZ4 (zstd's fast levels, {@code zstd:-1} … {@code zstd:-7}, are in its speed class).
 *   The state's own page size is used.</li>
 * </ul>
 */
package io.dwcp.compression;
