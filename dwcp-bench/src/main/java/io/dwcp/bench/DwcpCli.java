package io.dwcp.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code dwcp} command-line tool: {@code java -jar dwcp-bench/target/dwcp.jar COMMAND [OPTIONS]}.
 * Each command is a {@link Command}; with {@code --json} its last stdout line is one JSON object.
 */
public final class DwcpCli {
    /** Netty's switch for its buffer-allocator flight-recorder events (see main). */
    static final String NETTY_JFR = "io.netty.jfr.enabled";

    /** One sub-command. */
    interface Command {
        /** One line for the usage text. */
        String summary();

        /** Runs with the arguments after the command name; returns the process exit code. */
        int run(String[] args) throws Exception;
    }

    private DwcpCli() {
    }

    static Map<String, Command> commands() {
        Map<String, Command> m = new LinkedHashMap<>();
        // Commands register here, one class each.
        m.put("encode", new EncodeCommand());
        m.put("bench-transport", new BenchTransportCommand());
        m.put("send", new SendCommand());
        m.put("receive", new ReceiveCommand());
        m.put("qemu-migrate", new QemuMigrateCommand());
        m.put("demo", new DemoCommand());
        m.put("chart", new ChartCommand());
        m.put("predict", new PredictCommand());
        m.put("check-history", new CheckHistoryCommand());
        m.put("consensus-check", new ConsensusCheckCommand());
        m.put("consensus-latency", new ConsensusLatencyCommand());
        m.put("sync-bench", new SyncBenchCommand());
        m.put("partition", new PartitionCommand());
        m.put("bench-partition", new BenchPartitionCommand());
        m.put("bench-place", new BenchPlaceCommand());
        m.put("place", new PlaceCommand());
        m.put("hostile-peer", new HostilePeerCommand());
        return m;
    }

    public static void main(String[] args) {
        nettyJfrOffUnlessSet();
        System.exit(run(args));
    }

    /**
     * Netty's buffer-allocator flight-recorder events are disabled in every recording unless a recording's settings
     * enable them, but registering their types cost a new process about 0.1 s of CPU on its first connection (the
     * recorder's own start-up). The CLI leaves them out unless {@code -Dio.netty.jfr.enabled} says otherwise. Must run
     * before Netty's first use (Netty reads the property once).
     */
    static void nettyJfrOffUnlessSet() {
        if (System.getProperty(NETTY_JFR) == null) {
            System.setProperty(NETTY_JFR, "false");
        }
    }

    static int run(String[] args) {
        // --debug anywhere: stack traces with errors (otherwise one line each).
        boolean debug = Arrays.asList(args).contains("--debug");
        if (debug) {
            args = Arrays.stream(args).filter(x -> !x.equals("--debug")).toArray(String[]::new);
        }
        Map<String, Command> commands = commands();
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            usage(commands);
            return args.length == 0 ? 2 : 0;
        }
        Command c = commands.get(args[0]);
        if (c == null) {
            System.err.println("dwcp: unknown command '" + args[0] + "'");
            usage(commands);
            return 2;
        }
        try {
            return c.run(Arrays.copyOfRange(args, 1, args.length));
        } catch (CliArgs.UsageException | IllegalArgumentException e) {
            // Bad options or values: say what to change, no stack trace.
            System.err.println("dwcp " + args[0] + ": " + e.getMessage());
            return 2;
        } catch (Exception | Error e) {
            // One line naming the cause and its code (a CompletionException's chain unwrapped); the trace on --debug.
            io.dwcp.core.DwcpException d = io.dwcp.core.DwcpException.local("the command", e);
            System.err.println("dwcp " + args[0] + ": " + d.getMessage() + (debug ? "" : "   (--debug shows the stack trace)"));
            if (debug) {
                e.printStackTrace(System.err);
            }
            return d.code() == io.dwcp.core.ErrorCode.INVALID_CONFIG ? 2 : 1;
        }
    }

    private static void usage(Map<String, Command> commands) {
        System.err.println("usage: java -jar dwcp.jar COMMAND [OPTIONS]   (COMMAND --help for its options)");
        for (Map.Entry<String, Command> e : commands.entrySet()) {
            System.err.printf("  %-16s %s%n", e.getKey(), e.getValue().summary());
        }
    }
}
