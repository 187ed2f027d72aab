"""The leaders' cockpit (驾驶舱): KPI tiles, charts and signal lists computed from the data."""
