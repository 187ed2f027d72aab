"""Warning and growth signals: definitions as data, vectorised detection, snapshots, follow-up."""
