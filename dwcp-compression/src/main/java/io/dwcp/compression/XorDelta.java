package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The XOR + zero-run delta of one page against the same-offset baseline page (XBZRLE-style).
 *
 * <p>A delta is a list of runs: {@code zeroRun} bytes equal to the baseline, then {@code changedRun} bytes that
 * differ, both ULEB128 in the control stream, and the {@code changedRun} new bytes in the data stream. Equal stretches
 * shorter than {@value #MIN_ZERO_RUN} bytes are folded into the changed run (two ULEB128 bytes cost more than they
 * save). Bytes after the last run equal the baseline. The decoder checks every run against the page end and the
 * stream ends, so no input can write outside the page.
 *
 * <p>The cheap pre-test ({@link #looksRewritten}) compares 64 sampled words: when nearly all differ the page was
 * rewritten and the delta cannot beat a literal, so the encoder skips it.
 */
final class XorDelta {
    static final int MIN_ZERO_RUN = 4;

    private XorDelta() {
    }

    /**
     * Whether at least 7/8 of 64 sampled 8-byte words of the two pages differ.
     *
     * @param pageSizeBytes at least 512
     */
    static boolean looksRewritten(ByteBuffer oldChunk, int oldOffset, ByteBuffer newChunk, int newOffset, int pageSizeBytes) {
        int step = pageSizeBytes / 64;
        int differ = 0;
        for (int i = 0; i < pageSizeBytes; i += step) {
            if (oldChunk.getLong(oldOffset + i) != newChunk.getLong(newOffset + i)) {
                differ++;
            }
        }
        return differ >= 56;
    }

    /**
     * Encodes {@code newPage} against {@code oldPage} (both {@code n} bytes) into {@code control} and {@code data}.
     *
     * @param budgetBytes give up once control + data exceed this
     * @return the number of runs, or -1 when over budget (the streams then hold a partial encoding: roll back)
     */
    static int encode(byte[] oldPage, byte[] newPage, int n, Bytes control, Bytes data, int budgetBytes) {
        int startControl = control.length;
        int startData = data.length;
        int runs = 0;
        int i = 0;
        while (i < n) {
            int m = Arrays.mismatch(oldPage, i, n, newPage, i, n);
            if (m < 0) {
                break;
            }
            int j = i + m;
            int k = j + 1;
            while (k < n) {
                if (oldPage[k] != newPage[k]) {
                    k++;
                    continue;
                }
                int end = Math.min(n, k + MIN_ZERO_RUN);
                int e = Arrays.mismatch(oldPage, k, end, newPage, k, end);
                if (e < 0) {
                    break;
                }
                k += e + 1;
            }
            control.uleb(j - i);
            control.uleb(k - j);
            data.put(newPage, j, k - j);
            runs++;
            if ((control.length - startControl) + (data.length - startData) > budgetBytes) {
                return -1;
            }
            i = k;
        }
        return runs;
    }

    /**
     * Applies {@code runs} runs to {@code page} (holding the baseline content at {@code pageOffset}), reading run
     * lengths from {@code control} and new bytes from {@code data}.
     *
     * @throws DwcpException {@code CORRUPT_FRAME} when a run leaves the page or a stream ends early
     */
    static void apply(ByteBuffer page, int pageOffset, int n, int runs, Cursor control, Cursor data) {
        int pos = 0;
        for (int r = 0; r < runs; r++) {
            long zero = control.uleb();
            long changed = control.uleb();
            if (zero > n - pos || changed == 0 || changed > n - pos - zero) {
                throw new DwcpException(ErrorCode.CORRUPT_FRAME, "XOR delta run (" + zero + ", " + changed
                        + ") at byte " + pos + " leaves the " + n + "-byte page");
            }
            pos += (int) zero;
            int len = (int) changed;
            data.copyTo(page, pageOffset + pos, len);
            pos += len;
        }
    }
}
