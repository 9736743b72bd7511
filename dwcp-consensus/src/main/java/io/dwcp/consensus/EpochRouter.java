package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.ConsensusKeys;
import io.dwcp.core.config.DwcpConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/*
 * The client side of a SwitchingConsensus scope's epoch-fence protocol (see SwitchingConsensus's class comment): where
 * this client believes the scope is, sending a command there and following FENCED replies to the next layout,
 * completing a switch left between fence and seed, finding the layout in force with its counts (status), and making a
 * switch (fence in the old layout, then seed in the new one).
 *
 * Owned by one SwitchingConsensus, which validates keys, counts conflicts and calls send/locate/switchTo; the groups
 * themselves are started and stopped by the SwitchingConsensus (this class never starts, stops or closes anything).
 *
 * Threading: no lock. `position` is a volatile hint written by whichever future completes last (a stale value only
 * costs a FENCED reply and a hop, never correctness: the groups' logs decide). `switching` (CAS) admits one switch of
 * this node at a time; it is cleared when that switch's future completes, on every path. The counters are atomics.
 */
final class EpochRouter {
    /** Logs under the scope's name, as before the protocol had a class of its own. */
    private static final Logger LOG = LoggerFactory.getLogger(SwitchingConsensus.class);

    private final Map<String, RatisConsensus> groups;
    private final String initial;
    private final DwcpConfig config;
    private final UUID clientId = UUID.randomUUID();
    /** The layout and epoch this client last found current; a hint, corrected by FENCED replies. */
    private volatile Position position;
    private final AtomicBoolean switching = new AtomicBoolean();
    private final AtomicLong fencedRetries = new AtomicLong();
    private final Counter switches;
    private final Timer switchDuration;
    /** Counts a switch not made, by reason (registers the meter with the scope's). */
    private final Consumer<String> skipped;

    /** Where the scope is (or was last seen): a layout serving an epoch; {@code from} is the fenced layout it came from. */
    private record Position(String layout, long epoch, String from, long fromEpoch) {
        Position(String layout, long epoch) {
            this(layout, epoch, null, -1);
        }
    }

    EpochRouter(Map<String, RatisConsensus> groups, String initial, DwcpConfig config, Counter switches, Timer switchDuration,
                Consumer<String> skipped) {
        this.groups = groups;
        this.initial = initial;
        this.config = config;
        this.switches = switches;
        this.switchDuration = switchDuration;
        this.skipped = skipped;
        this.position = new Position(initial, 0);
    }

    /** {@return the layout this client last found in force (a hint)} */
    String layoutHint() {
        return position.layout();
    }

    /** {@return how many times an operation of this client met a fence and was sent again elsewhere} */
    long fencedRetries() {
        return fencedRetries.get();
    }

    /**
     * Sends one operation where the scope is, following fences.
     *
     * @param type the command type
     * @param seq the client sequence (0 for a read)
     * @param key the key (validated by the caller)
     * @param expected the compare-and-set's expected value, or null
     * @param value the value to write, or null
     * @param origin this node's region ("" for none), counted by the group
     * @return the reply of the group that served the operation's epoch
     */
    CompletableFuture<Reply> send(Command.Type type, long seq, String key, String expected, String value, String origin) {
        Function<Long, Command> at = epoch -> new Command(type, clientId.getMostSignificantBits(),
                clientId.getLeastSignificantBits(), seq, key, expected, value, new Command.Guard(epoch, origin));
        return attempt(at, position, 0);
    }

    /** Sends the command for {@code at}'s epoch to its layout, following fences (see SwitchingConsensus). */
    private CompletableFuture<Reply> attempt(Function<Long, Command> command, Position at, int hops) {
        if (hops > SwitchingConsensus.MAX_HOPS) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.QUORUM_UNAVAILABLE, "the layout changed more"
                    + " than " + SwitchingConsensus.MAX_HOPS + " times during one operation; it did not take effect here,"
                    + " retry"));
        }
        return group(at.layout()).send(command.apply(at.epoch())).thenCompose(reply -> {
            if (reply.status() != Reply.Status.FENCED) {
                position = new Position(at.layout(), at.epoch());
                return CompletableFuture.completedFuture(reply);
            }
            fencedRetries.incrementAndGet();
            return next(at, reply.error()).thenCompose(p -> attempt(command, p, hops + 1));
        });
    }

    /** Where to go after {@code at}'s group answered FENCED with {@code epoch|layout}. */
    private CompletableFuture<Position> next(Position at, String fenced) {
        int bar = fenced.indexOf('|');
        long epoch = Long.parseLong(fenced.substring(0, bar));
        String to = fenced.substring(bar + 1);
        if (epoch >= at.epoch() && !to.isEmpty()) {
            group(to);
            return CompletableFuture.completedFuture(new Position(to, epoch + 1, at.layout(), epoch));
        }
        if (epoch > at.epoch()) {
            return CompletableFuture.completedFuture(new Position(at.layout(), epoch)); // serves a later epoch unfenced
        }
        // Below at.epoch (not seeded for it yet; a fence it holds is an older one): complete the switch that led here,
        // or start again from the initial layout.
        if (at.from() != null) {
            return complete(at.from(), at.fromEpoch(), at.layout())
                    .thenApply(done -> done ? new Position(at.layout(), at.epoch()) : new Position(initial, 0));
        }
        return CompletableFuture.completedFuture(new Position(initial, 0));
    }

    /**
     * Completes a switch from {@code from} (fenced at {@code epoch}) to {@code to}: reads the handed-over state with
     * the same fence (answered again by a fenced group) and seeds {@code to} at {@code epoch + 1}.
     *
     * @return true when {@code to} serves {@code epoch + 1} or later; false when {@code from} no longer holds that
     *         fence (the scope moved on: start again from the initial layout)
     */
    private CompletableFuture<Boolean> complete(String from, long epoch, String to) {
        return group(from).send(fence(to, epoch, 0)).thenCompose(f -> {
            if (f.status() != Reply.Status.OK) {
                return CompletableFuture.completedFuture(false);
            }
            return seed(from, epoch, to, f.current().value()).thenApply(x -> true);
        });
    }

    private CompletableFuture<Void> seed(String from, long epoch, String to, String state) {
        Command seed = new Command(Command.Type.SEED, clientId.getMostSignificantBits(), clientId.getLeastSignificantBits(),
                0, from, Long.toString(epoch + 1), state);
        return group(to).send(seed).thenApply(s -> {
            if (s.status() != Reply.Status.OK) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "layout '" + to + "' refused the state fenced in '" + from
                        + "' at epoch " + epoch + ": " + s.status() + " " + s.error());
            }
            return null;
        });
    }

    private Command fence(String to, long epoch, long minIntervalMillis) {
        long maxState = config.get(ConsensusKeys.MAX_COMMAND).bytes() - 1024; // room for the seed command's header
        return new Command(Command.Type.FENCE, clientId.getMostSignificantBits(), clientId.getLeastSignificantBits(), 0,
                to, Long.toString(epoch), System.currentTimeMillis() + "/" + minIntervalMillis + "/" + Math.max(0, maxState));
    }

    /** Finds the layout in force from where this client last saw it (completing a half-done switch on the way). */
    CompletableFuture<SwitchingConsensus.Status> status() {
        return locate(position, 0);
    }

    private CompletableFuture<SwitchingConsensus.Status> locate(Position at, int hops) {
        if (hops > SwitchingConsensus.MAX_HOPS) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.QUORUM_UNAVAILABLE, "the layout changed more"
                    + " than " + SwitchingConsensus.MAX_HOPS + " times while it was looked up; retry"));
        }
        Command read = new Command(Command.Type.READ, clientId.getMostSignificantBits(), clientId.getLeastSignificantBits(),
                0, LayoutState.LAYOUT_KEY, null, null);
        return group(at.layout()).send(read).thenCompose(r -> {
            String[] f = r.current().value().split("\\|", -1);
            long epoch = Long.parseLong(f[0]);
            if (!f[1].isEmpty()) {
                return complete(at.layout(), epoch, f[1]).thenCompose(done -> locate(done
                        ? new Position(f[1], epoch + 1) : new Position(initial, 0), hops + 1));
            }
            if (epoch == 0 && !at.layout().equals(initial)) {
                return locate(new Position(initial, 0), hops + 1); // never seeded: not the scope's layout
            }
            Map<String, Long> counts = new HashMap<>();
            if (!f[3].isEmpty()) {
                for (String kv : f[3].split(",")) {
                    int eq = kv.lastIndexOf('=');
                    counts.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
                }
            }
            position = new Position(at.layout(), epoch);
            return CompletableFuture.completedFuture(new SwitchingConsensus.Status(at.layout(), epoch, Long.parseLong(f[2]),
                    counts));
        });
    }

    /**
     * Switches the scope to {@code layout} (see {@link SwitchingConsensus#switchTo(String)}); one switch of this node at
     * a time.
     */
    CompletableFuture<Void> switchTo(String layout, long minIntervalMillis) {
        group(layout);
        if (!switching.compareAndSet(false, true)) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "a layout switch is in progress"
                    + " on this node; request another once it completed"));
        }
        long t0 = System.nanoTime();
        CompletableFuture<Void> done = doSwitch(layout, minIntervalMillis, 0)
                .orTimeout(config.get(ConsensusKeys.SWITCH_DRAIN_TIMEOUT).toMillis(), TimeUnit.MILLISECONDS);
        return done.whenComplete((v, e) -> {
            switching.set(false);
            if (e == null) {
                switchDuration.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            }
        });
    }

    private CompletableFuture<Void> doSwitch(String to, long minIntervalMillis, int hops) {
        return locate(position, hops).thenCompose(s -> {
            if (s.layout().equals(to)) {
                return CompletableFuture.completedFuture((Void) null);
            }
            return group(s.layout()).send(fence(to, s.epoch(), minIntervalMillis)).thenCompose(f -> switch (f.status()) {
                case OK -> seed(s.layout(), s.epoch(), to, f.current().value()).thenApply(x -> {
                    position = new Position(to, s.epoch() + 1);
                    switches.increment();
                    LOG.info("scope switched from layout '{}' (epoch {}) to '{}' (epoch {})", s.layout(), s.epoch(), to,
                            s.epoch() + 1);
                    return (Void) null;
                });
                case FENCED -> doSwitch(to, minIntervalMillis, hops + 1); // someone else switched meanwhile: look again
                case REFUSED -> {
                    skipped.accept(f.error().startsWith("too soon") ? "min-interval" : "too-large");
                    yield CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "layout '" + s.layout()
                            + "' refused the switch to '" + to + "': " + f.error()));
                }
                default -> CompletableFuture.failedFuture(new DwcpException(ErrorCode.PROTOCOL_ERROR, "layout '"
                        + s.layout() + "' answered a fence with " + f.status() + " " + f.error()));
            });
        });
    }

    /** The group of a configured layout; an unknown one is an IllegalArgumentException naming the configured ones. */
    RatisConsensus group(String layout) {
        RatisConsensus g = groups.get(layout);
        if (g == null) {
            throw new IllegalArgumentException("unknown layout '" + layout + "'; configured: " + groups.keySet());
        }
        return g;
    }
}
