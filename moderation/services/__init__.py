"""Business logic: intake, decisions, sites. Views and tasks stay thin and call these."""
