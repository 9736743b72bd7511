package io.dwcp.bench;

import io.dwcp.consensus.check.HistoryFile;
import io.dwcp.consensus.check.LinearizabilityChecker;
import io.dwcp.consensus.check.Operation;
import io.dwcp.consensus.check.OwnershipCheck;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code dwcp check-history FILE [--json] [--max-states N] [--owner-prefix vm/]}: checks a recorded consensus history
 * (JSON lines, see {@code docs/consensus.md}) for linearizability and for at most one VM owner per epoch, apart from
 * the run that recorded it; a failing key's history is shrunk to a small sub-history that still fails
 * ({@link LinearizabilityChecker#minimize}). Exit status 0 when both hold, 1 when not, 2 for a bad file or options.
 */
final class CheckHistoryCommand implements DwcpCli.Command {
    @Override
    public String summary() {
        return "check a recorded consensus history (JSON lines) for linearizability and one owner per VM epoch";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, Set.of("max-states", "owner-prefix"), Set.of("json", "help"));
        if (a.flag("help") || a.positional().size() != 1) {
            System.err.println("usage: dwcp check-history FILE [--json] [--max-states 5000000] [--owner-prefix vm/]");
            return a.flag("help") ? 0 : 2;
        }
        long maxStates;
        try {
            maxStates = Long.parseLong(a.get("max-states", "5000000"));
        } catch (NumberFormatException e) {
            throw new CliArgs.UsageException("--max-states must be a whole number, got '" + a.get("max-states") + "'");
        }
        if (maxStates < 1) {
            throw new CliArgs.UsageException("--max-states must be >= 1, got " + maxStates);
        }
        List<Operation> history = HistoryFile.read(Path.of(a.positional().get(0)));
        LinearizabilityChecker.Result r = new LinearizabilityChecker(maxStates).check(history);
        List<String> conflicts = OwnershipCheck.conflicts(history, a.get("owner-prefix", "vm/"));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ops", history.size());
        for (Operation.Outcome o : Operation.Outcome.values()) {
            out.put(o.name().toLowerCase(java.util.Locale.ROOT), history.stream().filter(op -> op.outcome() == o).count());
        }
        out.put("linearizable", r.linearizable());
        out.put("statesExplored", r.statesExplored());
        out.put("ownershipConflicts", conflicts);
        List<String> failing = new ArrayList<>();
        if (!r.linearizable()) {
            LinearizabilityChecker checker = new LinearizabilityChecker(maxStates);
            for (Operation op : checker.minimize(r.failingHistory(), 5000)) {
                failing.add(HistoryFile.line(op));
            }
        }
        out.put("failingKey", r.failingKey());
        out.put("failingHistory", failing);
        System.out.printf("%d operations (ok %s, fail %s, info %s): %s; %d ownership conflict(s)%n", history.size(), out.get("ok"),
                out.get("fail"), out.get("info"), r.linearizable() ? "linearizable"
                        : "NOT linearizable on key '" + r.failingKey() + "' (" + r.failingHistory().size()
                        + " operations; " + failing.size() + " of them still fail together)", conflicts.size());
        conflicts.forEach(c -> System.out.println("  two owners: " + c));
        if (a.flag("json")) {
            System.out.println(Json.write(out));
        } else if (!r.linearizable()) {
            failing.forEach(l -> System.out.println("  " + l));
        }
        return r.linearizable() && conflicts.isEmpty() ? 0 : 1;
    }
}
