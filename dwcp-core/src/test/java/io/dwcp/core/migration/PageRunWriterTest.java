package io.dwcp.core.migration;

import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.WritableRegion;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PageRunWriterTest {
    private static final int PAGE = 64;

    /** Records each write's offset and length, and applies it to a heap region. */
    private static final class Recording {
        final ByteBuffer backing = ByteBuffer.allocate(32 * PAGE);
        final WritableRegion inner = StateRegions.ofBuffer("r", backing);
        final List<long[]> writes = new ArrayList<>();
        final WritableRegion region = (WritableRegion) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[]{WritableRegion.class}, (proxy, m, args) -> {
                    if (m.getName().equals("write")) {
                        writes.add(new long[]{(long) args[0], ((ByteBuffer) args[1]).remaining()});
                    }
                    try {
                        return m.invoke(inner, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static ByteBuffer page(int fill, int len) {
        byte[] b = new byte[len];
        java.util.Arrays.fill(b, (byte) fill);
        return ByteBuffer.wrap(b);
    }

    @Test
    void consecutivePagesGoOutAsOneWriteEachRunAndTheBytesLandWhereTheyBelong() throws IOException {
        Recording r = new Recording();
        PageRunWriter w = new PageRunWriter(r.region, PAGE, 4);
        int[] pages = {1, 2, 3, 7, 8, 9, 10, 11, 12, 20};
        for (int p : pages) {
            ByteBuffer b = page(p, PAGE);
            w.add(p, b);
            assertEquals(PAGE, b.remaining(), "the caller's buffer is not consumed (it may be a reused view)");
        }
        w.flush();
        // 1-3 one run; 7-10 fills the 4-page buffer; 11-12 the rest of that run; 20 alone.
        assertEquals(4, w.writes());
        assertEquals(List.of("64+192", "448+256", "704+128", "1280+64"),
                r.writes.stream().map(x -> x[0] + "+" + x[1]).toList());
        byte[] expected = new byte[32 * PAGE];
        for (int p : pages) {
            java.util.Arrays.fill(expected, p * PAGE, (p + 1) * PAGE, (byte) p);
        }
        assertArrayEquals(expected, r.backing.array());
        w.flush();
        assertEquals(4, w.writes(), "an empty run writes nothing");
    }

    @Test
    void aShortLastPageEndsTheRun() throws IOException {
        Recording r = new Recording();
        PageRunWriter w = new PageRunWriter(r.region, PAGE, 8);
        w.add(30, page(5, PAGE));
        w.add(31, page(6, PAGE / 2));
        w.flush();
        assertEquals(1, w.writes());
        assertEquals(PAGE + PAGE / 2, r.writes.get(0)[1]);
        assertEquals(6, r.backing.get(31 * PAGE + PAGE / 2 - 1));
    }

    @Test
    void misuseIsRefused() throws IOException {
        Recording r = new Recording();
        PageRunWriter w = new PageRunWriter(r.region, PAGE, 2);
        w.add(5, page(1, PAGE));
        assertThrows(IllegalArgumentException.class, () -> w.add(5, page(1, PAGE)), "pages ascend");
        assertThrows(IllegalArgumentException.class, () -> w.add(6, page(1, PAGE + 1)), "no page is longer than a page");
        assertThrows(IllegalArgumentException.class, () -> new PageRunWriter(r.region, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new PageRunWriter(r.region, PAGE, 0));
    }
}
