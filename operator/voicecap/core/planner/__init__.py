"""The planner and its terms: plan = f(spec, observation, memory, now), stage by stage."""
