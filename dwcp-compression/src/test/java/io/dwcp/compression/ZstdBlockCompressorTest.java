package io.dwcp.compression;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BlockCompressor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ZstdBlockCompressorTest {
    private final BlockCompressor zstd = new ZstdBlockCompressor();

    /** Half random, half repeated text: compressible, like guest pages. */
    private static byte[] pages(int n) {
        byte[] b = new byte[n];
        Random r = new Random(7);
        for (int i = 0; i < n; i += 4096) {
            if ((i / 4096) % 2 == 0) {
                for (int k = i; k < Math.min(n, i + 4096); k++) {
                    b[k] = (byte) r.nextInt(256);
                }
            } else {
                for (int k = i; k < Math.min(n, i + 4096); k++) {
                    b[k] = (byte) "guest kernel page ".charAt(k % 18);
                }
            }
        }
        return b;
    }

    @Test
    void isFoundByServiceLoaderAsFormatZstd() {
        BlockCompressor found = ServiceLoader.load(BlockCompressor.class).findFirst().orElseThrow();
        assertEquals(ZstdBlockCompressor.class, found.getClass());
        assertEquals(BlockCompressor.ZSTD, found.formatId());
    }

    @Test
    void roundTripsAtAnOffsetAndCompresses() {
        byte[] src = pages(256 * 1024);
        byte[] dst = new byte[10 + zstd.maxCompressedLength(src.length - 3)];
        int n = zstd.compress(src, 3, src.length - 3, dst, 10);
        assertTrue(n < src.length * 3 / 4, "compressed to " + n);
        byte[] back = new byte[src.length + 5];
        zstd.decompress(dst, 10, n, back, 5, src.length - 3);
        assertArrayEquals(Arrays.copyOfRange(src, 3, src.length), Arrays.copyOfRange(back, 5, 5 + src.length - 3));
    }

    @Test
    void dataOfAnotherLengthOrCorruptIsRefusedWithoutWritingPastTheExpectedBytes() {
        byte[] src = pages(64 * 1024);
        byte[] dst = new byte[zstd.maxCompressedLength(src.length)];
        int n = zstd.compress(src, 0, src.length, dst, 0);
        byte[] out = new byte[src.length + 16];
        assertEquals(ErrorCode.CORRUPT_FRAME, assertThrows(DwcpException.class,
                () -> zstd.decompress(dst, 0, n, out, 0, src.length - 1)).code());
        assertEquals(0, out[src.length - 1], "nothing written past the expected length");
        assertEquals(ErrorCode.CORRUPT_FRAME, assertThrows(DwcpException.class,
                () -> zstd.decompress(dst, 0, n - 5, out, 0, src.length)).code());
        byte[] flipped = dst.clone();
        flipped[0] ^= 0x5a; // the frame's magic (a flipped byte inside the data is caught by the state digest, not here)
        assertEquals(ErrorCode.CORRUPT_FRAME, assertThrows(DwcpException.class,
                () -> zstd.decompress(flipped, 0, n, out, 0, src.length)).code());
        assertEquals(ErrorCode.CORRUPT_FRAME, assertThrows(DwcpException.class,
                () -> zstd.decompress(new byte[]{1, 2, 3, 4, 5, 6, 7, 8}, 0, 8, out, 0, 100)).code());
    }

    @Test
    void tooLittleRoomIsAMisuse() {
        assertThrows(IllegalArgumentException.class, () -> zstd.compress(new byte[100], 0, 100, new byte[10], 0));
        assertThrows(IllegalArgumentException.class, () -> zstd.maxCompressedLength(-1));
    }
}
