package io.dwcp.core.placement;

import io.dwcp.core.spi.Forecast;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SiteLinkTest {
    private static final List<String> SITES = List.of("a", "b", "c");

    private static SiteLink link(String from, String to, long rttMs, double bps, double price, String peer) {
        return new SiteLink(from, to, Duration.ofMillis(rttMs), bps, price, peer);
    }

    @Test
    void averageLinksCostOneAndEachFactorScalesTheCost() {
        List<SiteLink> links = List.of(link("a", "b", 10, 1e9, 0.02, ""), link("b", "c", 10, 1e9, 0.02, ""),
                link("a", "c", 10, 1e9, 0.02, ""));
        SiteCosts c = SiteLink.costs(SITES, links, p -> Forecast.unknown(Duration.ofMinutes(1), 0));
        assertEquals(1.0, c.cost("a", "b"), 1e-12);
        assertEquals(1.0, c.cost("c", "a"), 1e-12); // the reverse link stands in
        assertEquals(0.0, c.cost("b", "b"), 1e-12);

        // a -> c at five times the others' price: its factor is (price + mean) ÷ (2 mean), over the six directed pairs.
        List<SiteLink> pricey = List.of(link("a", "b", 10, 1e9, 0.02, ""), link("b", "c", 10, 1e9, 0.02, ""),
                link("a", "c", 10, 1e9, 0.10, ""));
        SiteCosts p = SiteLink.costs(SITES, pricey, x -> Forecast.unknown(Duration.ofMinutes(1), 0));
        double mean = (0.02 * 4 + 0.10 * 2) / 6;
        assertEquals((0.10 + mean) / (2 * mean), p.cost("a", "c"), 1e-12);
        assertTrue(p.cost("a", "c") > p.cost("a", "b"));
    }

    @Test
    void aKnownForecastReplacesTheNominalBandwidthOfItsLink() {
        List<SiteLink> links = List.of(link("a", "b", 10, 1e9, 0, "peer-ab"), link("b", "a", 10, 1e9, 0, "peer-ba"));
        Forecast slow = new Forecast(true, 0.5e9, 0.4e9, 0.6e9, 0.9, 100, Duration.ofMinutes(1), Instant.EPOCH, "test");
        SiteCosts c = SiteLink.costs(List.of("a", "b"), links,
                peer -> peer.equals("peer-ab") ? slow : Forecast.unknown(Duration.ofMinutes(1), 0));
        // Mean bandwidth 0.75e9: a -> b at 0.5e9 costs 1.5, b -> a at 1e9 costs 0.75.
        assertEquals(1.5, c.cost("a", "b"), 1e-12);
        assertEquals(0.75, c.cost("b", "a"), 1e-12);
    }

    @Test
    void aPairWithoutALinkOrALinkOutsideTheSitesIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SiteLink.costs(SITES,
                List.of(link("a", "b", 1, 1e9, 0, "")), x -> Forecast.unknown(Duration.ofMinutes(1), 0)));
        assertTrue(e.getMessage().contains("no link between sites a and c"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> link("a", "a", 1, 1e9, 0, ""));
        assertThrows(IllegalArgumentException.class, () -> link("a", "b", 1, 0, 0, ""));
        assertThrows(IllegalArgumentException.class, () -> PlacementModel.builder().site(new Site("a", 1, 1))
                .link(link("a", "z", 1, 1e9, 0, "")).build());
    }
}
