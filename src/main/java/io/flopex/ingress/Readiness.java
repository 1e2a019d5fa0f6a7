package io.flopex.ingress;

import java.util.concurrent.atomic.AtomicBoolean;

/** Whether this node should receive traffic: every verticle deployed and not shutting down. */
public final class Readiness {

  private final AtomicBoolean deployed = new AtomicBoolean();
  private final AtomicBoolean stopping = new AtomicBoolean();

  public void markDeployed() {
    deployed.set(true);
  }

  /** Marks the node as shutting down; true the first time only. */
  public boolean markStopping() {
    return stopping.compareAndSet(false, true);
  }

  public boolean deployed() {
    return deployed.get();
  }

  public boolean stopping() {
    return stopping.get();
  }
}
