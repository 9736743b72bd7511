/**
 * Iterative pre-copy migration over a transport session: {@link io.dwcp.core.migration.MigrationSender}
 * sends rounds, {@link io.dwcp.core.migration.MigrationReceiver} verifies and commits them into replicas, and each
 * round yields a {@link io.dwcp.core.migration.RoundReport}. A sender whose receiver confirms no baseline of its own
 * may start from the replica the receiver already holds (replica-seeded rounds, {@link io.dwcp.core.migration.SeedMode};
 * the receiver side is {@link io.dwcp.core.migration.FileReplicas}). Wire format: {@code docs/migration-wire-format.md}.
 * Public API ({@link io.dwcp.core.migration.Migrations} is for the manager only).
 */
package io.dwcp.core.migration;
