package io.dwcp.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Minimal option parser for the CLI: {@code --name value}, {@code --flag}, and positional arguments. Unknown options
 * are errors.
 */
final class CliArgs {
    /**
     * {@code file} as a path to a regular file, or a usage error naming what it is instead (missing, a directory, a
     * FIFO or a device: a pipe would make a state of unknown size and hang the reader).
     */
    static java.nio.file.Path regularFile(String option, String file) {
        java.nio.file.Path p = java.nio.file.Path.of(file);
        if (java.nio.file.Files.isRegularFile(p)) {
            if (!java.nio.file.Files.isReadable(p)) {
                throw new UsageException(option + " " + file + " is not readable");
            }
            return p;
        }
        String what = !java.nio.file.Files.exists(p) ? "does not exist"
                : java.nio.file.Files.isDirectory(p) ? "is a directory" : "is not a regular file (a FIFO, socket or device)";
        throw new UsageException(option + " " + file + " " + what + "; give a state file");
    }

    /** Bad command line; the message says what to change. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();
    private final List<String> positional = new ArrayList<>();

    /**
     * @param withValue options that take a value (without the leading dashes)
     * @param booleanFlags options that take none
     */
    CliArgs(String[] args, Set<String> withValue, Set<String> booleanFlags) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--")) {
                String name = a.substring(2);
                String inline = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    inline = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                if (withValue.contains(name)) {
                    if (inline == null) {
                        if (i + 1 >= args.length) {
                            throw new UsageException("--" + name + " needs a value");
                        }
                        inline = args[++i];
                    }
                    values.put(name, inline);
                } else if (booleanFlags.contains(name) && inline == null) {
                    flags.add(name);
                } else {
                    throw new UsageException("unknown option --" + name);
                }
            } else {
                positional.add(a);
            }
        }
    }

    String get(String name) {
        return values.get(name);
    }

    String get(String name, String def) {
        return values.getOrDefault(name, def);
    }

    String require(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new UsageException("--" + name + " is required");
        }
        return v;
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    List<String> positional() {
        return positional;
    }
}
