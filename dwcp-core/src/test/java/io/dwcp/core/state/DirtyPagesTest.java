package io.dwcp.core.state;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** DirtyPages behaves as a sorted set of (region, page) — the law checked against TreeSet. */
class DirtyPagesTest {
    @Property(tries = 200)
    void behavesLikeASortedSet(@ForAll @Size(max = 300) List<@LongRange(min = 0, max = 1L << 22) Long> pages,
                               @ForAll @IntRange(min = 0, max = 3) int region) {
        DirtyPages d = new DirtyPages();
        TreeSet<Long> model = new TreeSet<>();
        for (long p : pages) {
            d.add(region, p);
            model.add(p);
        }
        assertEquals(model.size(), d.count());
        assertEquals(model.size(), d.count(region));
        List<Long> iterated = new ArrayList<>();
        for (long p = d.next(region, 0); p >= 0; p = d.next(region, p + 1)) {
            iterated.add(p);
        }
        assertEquals(new ArrayList<>(model), iterated);
        for (long p : pages) {
            assertEquals(true, d.contains(region, p));
            assertEquals(false, d.contains(region + 1, p));
            Long ceiling = model.ceiling(p / 2);
            assertEquals(ceiling == null ? -1 : ceiling, d.next(region, p / 2));
        }
        assertEquals(-1, d.next(region + 1, 0));
    }
}
