"""The model: estimates, the hall, the problem, the objective and the lower bound."""
