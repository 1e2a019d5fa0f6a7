package io.flopex.config;

import java.util.List;

/** A model as clients name it, with its endpoints in order of preference. */
public record ModelConfig(String id, long contextLength, List<EndpointConfig> endpoints) {}
