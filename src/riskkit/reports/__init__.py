"""Views of an evaluated cycle: MCMC tables, public tables under disclosure control, the record-keeping export."""
