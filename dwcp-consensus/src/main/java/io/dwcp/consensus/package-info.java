/**
 * ACP, the consensus module of DWCP: agreement on VM ownership hand-overs and placement decisions, on Raft groups run
 * by Apache Ratis. The public entry point is {@link io.dwcp.consensus.RatisConsensusProvider}, found by
 * {@code DwcpManager} (one group, the LOCAL scope); users program against {@link io.dwcp.core.spi.Consensus},
 * operators use {@link io.dwcp.consensus.ConsensusAdmin}. {@link io.dwcp.consensus.ScopedConsensus} spans sites: one
 * group per region (REGIONAL) and global keys ordered by their home region (GLOBAL);
 * {@link io.dwcp.consensus.SwitchingConsensus} chooses between layouts (groups placed differently) and switches a
 * scope between them with an epoch fence. {@link io.dwcp.consensus.ConsensusNode}
 * runs one replica as a stand-alone process. Everything else is internal.
 */
package io.dwcp.consensus;
