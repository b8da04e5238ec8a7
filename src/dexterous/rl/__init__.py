"""Reinforcement learning: TD3 with demo restarts and action coupling, HER baselines."""
