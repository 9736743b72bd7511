package io.dwcp.bench;

import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.SiteLink;
import io.dwcp.core.placement.SiteCosts;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The WAN links of {@code bench-place --links}: one per pair of sites, in the documented ranges, seeded. */
class BenchPlaceLinksTest {
    private static List<Site> sites(int k) {
        List<Site> out = new ArrayList<>();
        for (int s = 0; s < k; s++) {
            out.add(new Site("site" + s, 100, 1L << 40));
        }
        return out;
    }

    @Test
    void oneLinkPerPairInRangeAndACostMatrixFollows() {
        List<Site> sites = sites(8);
        List<SiteLink> links = BenchPlaceCommand.links(sites, new SplittableRandom(7));
        assertEquals(8 * 7 / 2, links.size());
        Set<String> pairs = new HashSet<>();
        for (SiteLink l : links) {
            assertTrue(pairs.add(l.from() + "|" + l.to()) && !pairs.contains(l.to() + "|" + l.from()), l.toString());
            double rttMs = l.rtt().toNanos() / 1e6;
            assertTrue(rttMs >= 2 && rttMs <= 2 + 1.5 * Math.sqrt(2) * 100, l.toString());
            assertTrue(l.bandwidthBitsPerSecond() >= 1e9 && l.bandwidthBitsPerSecond() <= 1e10, l.toString());
            assertTrue(l.pricePerGb() >= 0.01 && l.pricePerGb() <= 0.09, l.toString());
        }
        SiteCosts costs = SiteLink.costs(sites.stream().map(Site::id).toList(), links, peer -> null);
        assertTrue(costs.cost("site0", "site1") > 0);
        assertEquals(links, BenchPlaceCommand.links(sites, new SplittableRandom(7)));
    }
}
