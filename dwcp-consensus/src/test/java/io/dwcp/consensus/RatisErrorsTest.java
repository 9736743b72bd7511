package io.dwcp.consensus;

import io.dwcp.core.ErrorCode;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RatisErrorsTest {
    private static final RaftGroupMemberId N1 = RaftGroupMemberId.valueOf(RaftPeerId.valueOf("n1"), RaftGroupId.randomId());

    @Test
    void aNotLeaderRefusalWithAHintIsNotLeaderNamingTheHint() {
        RaftPeer n2 = RaftPeer.newBuilder().setId("n2").setAddress("127.0.0.1:9872").build();
        var d = RatisErrors.translate(new CompletionException(new NotLeaderException(N1, n2, List.of())), "g", Duration.ofSeconds(1));
        assertEquals(ErrorCode.NOT_LEADER, d.code());
        assertTrue(d.getMessage().contains("n2@127.0.0.1:9872"), d.getMessage());
    }

    @Test
    void aReplicaThatKnowsNoLeaderMeansNoQuorum() {
        var d = RatisErrors.translate(new NotLeaderException(N1, null, List.of()), "g", Duration.ofSeconds(1));
        assertEquals(ErrorCode.QUORUM_UNAVAILABLE, d.code(), d.getMessage());
    }
}
