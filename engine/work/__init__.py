"""The work itself: roadmaps' occurrences, assignments, school documents and evidence."""
