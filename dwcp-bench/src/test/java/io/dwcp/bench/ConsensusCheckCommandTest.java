package io.dwcp.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dwcp consensus-check}'s options. The run itself (replica processes, faults, checks) is tested in
 * dwcp-consensus by {@code LinearizabilityProcessTest}.
 */
class ConsensusCheckCommandTest {
    @Test
    void isRegistered() {
        assertTrue(DwcpCli.commands().containsKey("consensus-check"));
    }

    @Test
    void badOptionsExitTwoBeforeStartingAnything() {
        assertEquals(2, DwcpCli.run(new String[]{"consensus-check", "--nodes", "2"}));
        assertEquals(2, DwcpCli.run(new String[]{"consensus-check", "--nodes", "five"}));
        assertEquals(2, DwcpCli.run(new String[]{"consensus-check", "--faults", "kill,drop"}));
        assertEquals(2, DwcpCli.run(new String[]{"consensus-check", "--seeds", "0"}));
        assertEquals(2, DwcpCli.run(new String[]{"consensus-check", "--duration", "soon"}));
        assertEquals(2, DwcpCli.run(new String[]{"consensus-check", "--bogus"}));
        assertEquals(0, DwcpCli.run(new String[]{"consensus-check", "--help"}));
    }
}
