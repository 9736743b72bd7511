package io.dwcp.transport.netty;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Locking note in the style of {@code javax.annotation.concurrent.GuardedBy} (not a dependency here): the field or
 * method may only be read or written while holding the named lock, or only on the named thread. Values used in this
 * package: {@code "lock"} (the {@link SendQueue}'s lock), {@code "this"} (the object's monitor), {@code "loop"} (the
 * session's event loop thread), {@code "channel loop"} (the event loop of the stream's channel). Documentation only:
 * nothing checks it at run time; reviewers and tests do.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.FIELD, ElementType.METHOD})
@interface GuardedBy {
    /** The lock or thread that owns the annotated member. */
    String value();
}
