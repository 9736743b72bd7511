package io.dwcp.consensus;

import io.dwcp.consensus.check.Operation;
import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.Consensus.CasResult;
import io.dwcp.core.spi.Consensus.Versioned;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/*
 * The client side of a ConsensusCheck run: the register clients and the sites' hand-over agents (each body runs on one
 * "process-N" thread that ConsensusCheck.run starts and joins, and stops when `stop` is set), the final reads, and the
 * recording of one operation as a history entry with its Knossos outcome (OK; FAIL for a failed read or a write/CAS
 * refused before it was sent; INFO for any other failed write/CAS). Also used by the process tests that drive their own
 * workloads.
 *
 * Threading: the bodies share only the run's synchronized history list and the Progress monitor, which guards its two
 * counts; each body has its own Random. An interrupted operation returns null and its body ends.
 */
final class CheckClients {
    /** VMs the hand-over agents move. */
    static final int VMS = 2;
    /** Registers the clients use ({@code k0}, {@code k1}, ...). */
    static final int KEYS = 2;
    /** How long one operation may take before it counts as failed (indeterminate for a write). */
    static final long OP_TIMEOUT_S = 120;
    /** Process id of the final reads (no client uses it). */
    static final int FINAL_PROCESS = 1000;

    private CheckClients() {
    }

    /** Counts completed operations; the clients count, the nemesis waits on it (its monitor guards both counts). */
    static final class Progress {
        private long completed;
        private long ok;

        synchronized void done(boolean succeeded) {
            completed++;
            if (succeeded) {
                ok++;
            }
            notifyAll();
        }

        synchronized long completed() {
            return completed;
        }

        synchronized long ok() {
            return ok;
        }

        /** Waits until {@code completed >= c} and {@code ok >= k}, or the deadline; true if reached. */
        synchronized boolean await(long c, long k, long deadlineNanos) throws InterruptedException {
            while (completed < c || ok < k) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }
    }

    /** A register client: random reads, writes and compare-and-sets on the check's keys until {@code stop}. */
    static void registers(int process, Consensus client, Random rnd, AtomicBoolean stop, List<Operation> history,
                                  Progress progress) {
        while (!stop.get() && !Thread.currentThread().isInterrupted()) {
            int pick = rnd.nextInt(10);
            String key = "k" + rnd.nextInt(KEYS);
            String value = "v" + rnd.nextInt(5);
            Operation op;
            if (pick < 4) {
                op = read(process, client, key);
            } else if (pick < 7) {
                op = write(process, client, key, value);
            } else {
                op = cas(process, client, key, rnd.nextInt(4) == 0 ? null : "v" + rnd.nextInt(5), value);
            }
            if (op == null) {
                return;
            }
            history.add(op);
            progress.done(op.outcome() == Operation.Outcome.OK);
        }
    }

    /**
     * A site's hand-over agent. It runs a VM once it has seen its site as the owner, and gives it away with a CAS from
     * its site to another; it stops running the VM when it issues that CAS and, if the CAS is indeterminate, re-issues
     * it until the outcome is known (or the run ends), so it never resumes a VM it may have given away. Site-a creates
     * each VM.
     */
    static void agent(int process, String site, Consensus client, Random rnd, AtomicBoolean stop,
                              List<Operation> history, Progress progress) {
        while (!stop.get() && !Thread.currentThread().isInterrupted()) {
            String key = Consensus.ownerKey("vm-" + rnd.nextInt(VMS));
            Operation seen = read(process, client, key);
            if (seen == null) {
                return;
            }
            history.add(seen);
            progress.done(seen.outcome() == Operation.Outcome.OK);
            if (seen.outcome() != Operation.Outcome.OK) {
                continue;
            }
            if (seen.observed() == null && site.equals(ConsensusCheck.SITES[0])) {
                Operation created = cas(process, client, key, null, site);
                if (created == null) {
                    return;
                }
                history.add(created);
                progress.done(created.outcome() == Operation.Outcome.OK);
            } else if (site.equals(seen.observed())) {
                String[] sites = ConsensusCheck.SITES;
                String to = sites[Math.floorMod(java.util.Arrays.asList(sites).indexOf(site) + 1 + rnd.nextInt(sites.length - 1),
                        sites.length)];
                Operation moved;
                do {
                    moved = cas(process, client, key, site, to);
                    if (moved == null) {
                        return;
                    }
                    history.add(moved);
                    progress.done(moved.outcome() == Operation.Outcome.OK);
                } while (moved.outcome() == Operation.Outcome.INFO && !stop.get());
            }
        }
    }

    static void awaitFirstCommit(Consensus client) throws Exception {
        awaitFirstCommit(client, ConsensusCheck.RECOVERY_CAP);
    }

    /** Retries a read until the group committed it (it has a leader), for at most {@code bound}. */
    static void awaitFirstCommit(Consensus client, Duration bound) throws Exception {
        long deadline = System.nanoTime() + bound.toNanos();
        while (true) {
            try {
                client.read("k0").get(OP_TIMEOUT_S, TimeUnit.SECONDS);
                return;
            } catch (ExecutionException | TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw new DwcpException(ErrorCode.QUORUM_UNAVAILABLE, "the group elected no leader and committed nothing within "
                            + bound.toSeconds() + " s of starting: " + e.getMessage(), e);
                }
            }
        }
    }

    /** The final state: every key read (retried until it succeeds) after all faults healed. */
    static void finalReads(Consensus client, List<Operation> history, Duration bound) throws InterruptedException {
        List<String> keys = new ArrayList<>();
        for (int k = 0; k < KEYS; k++) {
            keys.add("k" + k);
        }
        for (int v = 0; v < VMS; v++) {
            keys.add(Consensus.ownerKey("vm-" + v));
        }
        long deadline = System.nanoTime() + bound.toNanos();
        for (String key : keys) {
            while (true) {
                Operation op = read(FINAL_PROCESS, client, key);
                if (op == null) {
                    throw new InterruptedException("interrupted during the final reads");
                }
                history.add(op);
                if (op.outcome() == Operation.Outcome.OK) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new DwcpException(ErrorCode.QUORUM_UNAVAILABLE, "the healed group answered no final read of '" + key
                            + "' within " + bound.toSeconds() + " s");
                }
            }
        }
    }

    static Operation read(int process, Consensus client, String key) {
        long call = System.nanoTime();
        try {
            Versioned v = client.read(key).get(OP_TIMEOUT_S, TimeUnit.SECONDS);
            return new Operation(process, Operation.Kind.READ, key, null, null, v.value(), false, v.version(), Operation.Outcome.OK,
                    call, System.nanoTime());
        } catch (ExecutionException | TimeoutException e) {
            return new Operation(process, Operation.Kind.READ, key, null, null, null, false, 0, Operation.Outcome.FAIL, call,
                    System.nanoTime());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    static Operation write(int process, Consensus client, String key, String value) {
        long call = System.nanoTime();
        try {
            Versioned v = client.write(key, value).get(OP_TIMEOUT_S, TimeUnit.SECONDS);
            return new Operation(process, Operation.Kind.WRITE, key, null, value, v.value(), false, v.version(),
                    Operation.Outcome.OK, call, System.nanoTime());
        } catch (ExecutionException | TimeoutException e) {
            return failed(process, Operation.Kind.WRITE, key, null, value, call, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    static Operation cas(int process, Consensus client, String key, String expected, String value) {
        long call = System.nanoTime();
        try {
            CasResult r = client.compareAndSet(key, expected, value).get(OP_TIMEOUT_S, TimeUnit.SECONDS);
            return new Operation(process, Operation.Kind.CAS, key, expected, value, r.current().value(), r.applied(),
                    r.current().version(), Operation.Outcome.OK, call, System.nanoTime());
        } catch (ExecutionException | TimeoutException e) {
            return failed(process, Operation.Kind.CAS, key, expected, value, call, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static Operation failed(int process, Operation.Kind kind, String key, String expected, String value, long call, Exception e) {
        DwcpException d = DwcpException.find(e);
        boolean notSent = d != null && (d.code() == ErrorCode.LIMIT_EXCEEDED || d.code() == ErrorCode.PROTOCOL_ERROR);
        return new Operation(process, kind, key, expected, value, null, false, 0,
                notSent ? Operation.Outcome.FAIL : Operation.Outcome.INFO, call, System.nanoTime());
    }
}
