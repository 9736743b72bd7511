package io.dwcp.compression;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.EncodeOptions;
import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The keyframe-ratio rule (a delta larger than {@code keyframe-ratio} × a keyframe's size makes the next round a
 * keyframe) is satisfied by any keyframe: one sent for another reason in between, such as the full round a sender
 * resends after the receiver refused that large delta, must not leave a second keyframe owed.
 */
class KeyframeRatioRuleTest {
    private static final int PAGE = 4096;
    private static final int PAGES = 512;
    private static HdeCodec tx;

    @BeforeAll
    static void start() {
        tx = Rounds.codec(DwcpConfig.builder().set("dwcp.compression.batch-size", "64KiB")
                .set("dwcp.compression.level.wan", "zstd:1").build(), Clock.systemUTC(), 2);
    }

    @AfterAll
    static void stop() throws Exception {
        tx.stop();
    }

    private static VmState<StateRegion> state(byte[] ram) {
        return Rounds.state("vm", PAGE, ram.clone());
    }

    @Test
    void aKeyframeBetweenALargeDeltaAndTheNextRoundClearsTheRule() {
        byte[] ram = new byte[PAGES * PAGE];     // zero pages: a keyframe of a few hundred bytes
        Rounds.Encoded first = Rounds.encode(tx, state(ram), EncodeOptions.builder().build());
        assertTrue(first.result.keyframe());
        tx.acknowledge(first.result.produced());

        byte[] random = new byte[PAGES / 2 * PAGE];
        new Random(5).nextBytes(random);
        System.arraycopy(random, 0, ram, 0, random.length);
        // Far larger than 0.7 × the zero keyframe: the rule fires. The receiver refuses it (it lost its baseline), so
        // this delta is never acknowledged and the round is resent as a keyframe.
        Rounds.Encoded refused = Rounds.encode(tx, state(ram), Rounds.against(first.result.produced()));
        assertFalse(refused.result.keyframe());
        Rounds.Encoded resent = Rounds.encode(tx, state(ram), EncodeOptions.builder().forceKeyframe(true).build());
        assertTrue(resent.result.keyframe());
        BaselineRef held = resent.result.produced();
        tx.acknowledge(held);

        ram[7] = 1;
        Rounds.Encoded next = Rounds.encode(tx, state(ram), Rounds.against(held));
        assertFalse(next.result.keyframe(), "one changed byte after the resent keyframe is a delta, not a keyframe owed by the refused delta");
    }

    @Test
    void aLargeDeltaStillMakesTheNextRoundAKeyframe() {
        byte[] ram = new byte[PAGES * PAGE];
        Rounds.Encoded first = Rounds.encode(tx, Rounds.state("vm2", PAGE, ram.clone()), EncodeOptions.builder().build());
        tx.acknowledge(first.result.produced());
        byte[] random = new byte[PAGES / 2 * PAGE];
        new Random(6).nextBytes(random);
        System.arraycopy(random, 0, ram, 0, random.length);
        Rounds.Encoded large = Rounds.encode(tx, Rounds.state("vm2", PAGE, ram.clone()), Rounds.against(first.result.produced()));
        assertFalse(large.result.keyframe());
        tx.acknowledge(large.result.produced());
        ram[7] = 1;
        Rounds.Encoded next = Rounds.encode(tx, Rounds.state("vm2", PAGE, ram.clone()), Rounds.against(large.result.produced()));
        assertTrue(next.result.keyframe(), "the rule itself still works");
    }
}
