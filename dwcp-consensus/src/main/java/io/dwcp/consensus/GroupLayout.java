package io.dwcp.consensus;

import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The voters of one Raft group as configured by {@code dwcp.consensus.peers} ({@code id@host:port,...}) and its
 * Ratis group id, derived from {@code dwcp.consensus.group} so every node computes the same one.
 *
 * @param name group name
 * @param peers voters in configured order
 */
record GroupLayout(String name, List<RaftPeer> peers) {
    GroupLayout {
        peers = List.copyOf(peers);
    }

    /** Parses the peer list (already validated by the configuration schema). */
    static GroupLayout parse(String name, String peerList) {
        List<RaftPeer> peers = new ArrayList<>();
        for (String part : peerList.split(",")) {
            String p = part.trim();
            int at = p.indexOf('@');
            if (at <= 0 || at == p.length() - 1) {
                throw new IllegalArgumentException("peer '" + p + "' is not id@host:port");
            }
            peers.add(RaftPeer.newBuilder().setId(p.substring(0, at)).setAddress(p.substring(at + 1)).build());
        }
        return new GroupLayout(name, peers);
    }

    /** The Ratis group id: a name-based UUID of {@code dwcp-consensus/<name>}. */
    RaftGroupId groupId() {
        return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("dwcp-consensus/" + name).getBytes(StandardCharsets.UTF_8)));
    }

    RaftGroup group() {
        return RaftGroup.valueOf(groupId(), peers);
    }

    /** The peer with this id, if it is a voter. */
    Optional<RaftPeer> peer(String id) {
        RaftPeerId pid = RaftPeerId.valueOf(id);
        return peers.stream().filter(p -> p.getId().equals(pid)).findFirst();
    }
}
