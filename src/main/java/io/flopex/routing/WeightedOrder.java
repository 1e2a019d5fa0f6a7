package io.flopex.routing;

import io.flopex.bus.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import java.util.random.RandomGenerator;

/**
 * The {@code weighted} strategy: each request's order is drawn at random, by weighted sampling
 * without replacement. The first endpoint is picked with probability proportional to its weight,
 * the second likewise among the rest, and so on, so over many requests each endpoint takes a
 * share of first attempts proportional to its weight and the others stay behind it as fallbacks.
 *
 * <p>An endpoint's weight is
 *
 * <pre>
 *   weight = configured weight
 *          × cheapest price / its price
 *          × max(HEALTH_FLOOR, 1 − its recent error rate)
 * </pre>
 *
 * where a price is the prompt plus the completion price per million tokens, counted as at least
 * {@link #PRICE_FLOOR}, and the cheapest is the lowest among the endpoints being ordered. The
 * floor on health leaves a failing endpoint a trickle of traffic, by which it shows that it has
 * recovered. Endpoints of weight 0 follow all the others, in their configured order.
 */
final class WeightedOrder {

  /** The least health counts for: a failing endpoint still gets a twentieth of its share. */
  static final double HEALTH_FLOOR = 0.05;

  /**
   * 0.01 USD per million tokens, in micro-USD: below it prices count as equal, so a free endpoint
   * weighs like a very cheap one rather than infinitely more than any paid one.
   */
  static final long PRICE_FLOOR = 10_000;

  private WeightedOrder() {}

  /**
   * The weight of one endpoint, given the cheapest {@link #price} among those ordered with it.
   */
  static double weight(Route route, long cheapest, double errorRate) {
    double health = Math.max(HEALTH_FLOOR, 1 - errorRate);
    return route.weight() * cheapest / price(route) * health;
  }

  /** The routes in a freshly drawn order; {@code errorRate} gives each one's recent error rate. */
  static List<Route> draw(
      List<Route> routes,
      ToDoubleFunction<Route> errorRate,
      RandomGenerator random) {
    long cheapest = Long.MAX_VALUE;
    for (Route route : routes) {
      cheapest = Math.min(cheapest, price(route));
    }
    double[] weights = new double[routes.size()];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = weight(routes.get(i), cheapest, errorRate.applyAsDouble(routes.get(i)));
    }
    boolean[] drawn = new boolean[weights.length];
    List<Route> order = new ArrayList<>(routes.size());
    double total = remaining(weights);
    while (total > 0) {
      double point = random.nextDouble() * total;
      int pick = -1;
      for (int i = 0; i < weights.length && point >= 0; i++) {
        if (weights[i] > 0) {
          pick = i;
          point -= weights[i];
        }
      }
      order.add(routes.get(pick));
      drawn[pick] = true;
      weights[pick] = 0;
      // Summed afresh, not decremented, so rounding cannot leave a total with nothing behind it.
      total = remaining(weights);
    }
    for (int i = 0; i < drawn.length; i++) {
      if (!drawn[i]) {
        order.add(routes.get(i));
      }
    }
    return order;
  }

  /** Prompt plus completion price per million tokens, at least {@link #PRICE_FLOOR}. */
  static long price(Route route) {
    return Math.max(PRICE_FLOOR,
        route.pricing().promptPerMillion() + route.pricing().completionPerMillion());
  }

  private static double remaining(double[] weights) {
    double total = 0;
    for (double w : weights) {
      total += w;
    }
    return total;
  }
}
