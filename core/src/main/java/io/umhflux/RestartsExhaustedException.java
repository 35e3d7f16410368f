package io.umhflux;

/**
 * A supervised helper failed more often than its {@link Restart} budget allows, so it is not started again.
 * The cause is the last helper's failure (usually a {@link HelperFailedException} with its exit status).
 */
public final class RestartsExhaustedException extends UmhException {
    private static final long serialVersionUID = 1L;

    private final int restarts;

    /**
     * @param helper the blob name
     * @param restarts restarts made within the budget's window
     * @param budget the policy that gave up
     * @param lastFailure how the last helper ended
     */
    public RestartsExhaustedException(String helper, int restarts, Restart budget, Throwable lastFailure) {
        super("helper '" + helper + "' is not restarted again: it failed after " + restarts + " restart(s), "
                + "the budget of " + budget + "; last failure: " + lastFailure.getMessage(), lastFailure);
        this.restarts = restarts;
    }

    /** @return restarts made within the budget's window before giving up */
    public int restarts() {
        return restarts;
    }
}
