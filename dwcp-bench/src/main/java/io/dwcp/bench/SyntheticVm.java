package io.dwcp.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * A synthetic guest-RAM image for the {@code demo} command and tests — labelled synthetic, never used for published
 * figures. It imitates the page mix of real guest memory rather than random bytes: zero pages, text (page
 * cache of documents and logs), code-like pages (instruction streams with varying immediates), pointer-heavy heap
 * pages, pages duplicated elsewhere in the image, and incompressible pages (compressed files, crypto keys).
 *
 * <p>{@link #dirty} applies a workload between rounds: sparse in-place edits (counters, list pointers), whole-page
 * rewrites with content copied from elsewhere (page-cache refills, GC copying), fresh zero pages, and fresh random
 * pages. Deterministic for a seed. Works on any {@link ByteBuffer} (heap, direct or mapped).
 */
final class SyntheticVm {
    static final int PAGE = 4096;
    private static final String[] WORDS = ("the of and to in is was that for on with as by at from his her this which "
            + "kernel memory page migration state network stream buffer system process thread cache file disk virtual "
            + "machine host guest request response error warning info debug connection timeout retry server client "
            + "session transfer packet socket queue lock commit transaction index table record value key update").split(" ");

    private SyntheticVm() {
    }

    /** Fills {@code ram} (a whole number of pages) with the synthetic page mix. */
    static void fill(ByteBuffer ram, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int pages = ram.capacity() / PAGE;
        byte[] page = new byte[PAGE];
        for (int p = 0; p < pages; p++) {
            int kind = rnd.nextInt(100);
            if (kind < 10) {
                java.util.Arrays.fill(page, (byte) 0);
            } else if (kind < 35) {
                text(page, rnd);
            } else if (kind < 50) {
                code(page, rnd);
            } else if (kind < 75) {
                heap(page, rnd, p);
            } else if (kind < 90 && p > 0) {
                // a duplicate of an earlier page (shared libraries, page-cache copies)
                ram.get(rnd.nextInt(p) * PAGE, page, 0, PAGE);
            } else {
                rnd.nextBytes(page);
            }
            ram.put(p * PAGE, page, 0, PAGE);
        }
    }

    /**
     * One round of guest activity: touches about {@code dirtyFraction} of the pages. Returns the number of pages
     * written.
     */
    static int dirty(ByteBuffer ram, long seed, double dirtyFraction) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int pages = ram.capacity() / PAGE;
        int touched = (int) (pages * dirtyFraction);
        byte[] page = new byte[PAGE];
        // Activity clusters: a workload touches runs of neighbouring pages.
        int done = 0;
        while (done < touched) {
            int start = rnd.nextInt(pages);
            int run = 1 + rnd.nextInt(16);
            for (int p = start; p < Math.min(pages, start + run) && done < touched; p++, done++) {
                int kind = rnd.nextInt(100);
                if (kind < 60) {
                    // sparse in-place edit: a few 8-byte words (counters, pointers, flags)
                    int edits = 1 + rnd.nextInt(6);
                    for (int e = 0; e < edits; e++) {
                        int off = rnd.nextInt(PAGE / 8) * 8;
                        ram.order(ByteOrder.LITTLE_ENDIAN).putLong(p * PAGE + off, ram.getLong(p * PAGE + off) + 1 + rnd.nextInt(1000));
                    }
                } else if (kind < 85) {
                    // whole-page rewrite with content that exists elsewhere (moved)
                    ram.get(rnd.nextInt(pages) * PAGE, page, 0, PAGE);
                    ram.put(p * PAGE, page, 0, PAGE);
                } else if (kind < 92) {
                    java.util.Arrays.fill(page, (byte) 0);
                    ram.put(p * PAGE, page, 0, PAGE);
                } else if (kind < 97) {
                    text(page, rnd);
                    ram.put(p * PAGE, page, 0, PAGE);
                } else {
                    rnd.nextBytes(page);
                    ram.put(p * PAGE, page, 0, PAGE);
                }
            }
        }
        ram.order(ByteOrder.BIG_ENDIAN);
        return done;
    }

    private static void text(byte[] page, SplittableRandom rnd) {
        StringBuilder sb = new StringBuilder(PAGE + 64);
        while (sb.length() < PAGE) {
            if (rnd.nextInt(12) == 0) {
                sb.append("2026-11-23T17:").append(10 + rnd.nextInt(50)).append(':').append(10 + rnd.nextInt(50))
                        .append(" [").append(WORDS[rnd.nextInt(WORDS.length)]).append("] ");
            }
            sb.append(WORDS[rnd.nextInt(WORDS.length)]).append(rnd.nextInt(9) == 0 ? ".\n" : " ");
        }
        byte[] b = sb.toString().getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, page, 0, PAGE);
    }

    private static final byte[][] OPCODES = {
            {0x48, (byte) 0x89, (byte) 0xe5}, {0x48, (byte) 0x83, (byte) 0xec}, {(byte) 0xe8}, {(byte) 0xc3},
            {0x48, (byte) 0x8b, 0x45}, {0x0f, (byte) 0x85}, {0x55}, {0x5d}, {0x41, 0x57}, {(byte) 0x89, 0x7d}};

    private static void code(byte[] page, SplittableRandom rnd) {
        int i = 0;
        while (i < PAGE) {
            byte[] op = OPCODES[rnd.nextInt(OPCODES.length)];
            for (int k = 0; k < op.length && i < PAGE; k++) {
                page[i++] = op[k];
            }
            int imm = rnd.nextInt(4) == 0 ? 4 : 1;
            for (int k = 0; k < imm && i < PAGE; k++) {
                page[i++] = (byte) (k == 0 ? rnd.nextInt(64) : 0);
            }
        }
    }

    private static void heap(byte[] page, SplittableRandom rnd, int p) {
        ByteBuffer b = ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN);
        long base = 0xffff_8880_0000_0000L + ((long) p << 12);
        while (b.remaining() >= 32) {
            // an object: header, two pointers into nearby memory, a small int, padding
            b.putLong(0x0000_0001_0000_0000L | rnd.nextInt(256));
            b.putLong(base + rnd.nextInt(1 << 20) * 8L);
            b.putLong(base + rnd.nextInt(1 << 20) * 8L);
            b.putLong(rnd.nextInt(4) == 0 ? rnd.nextInt(1 << 16) : 0);
        }
    }
}
