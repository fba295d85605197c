"""The catalog: micro-credentials (the six parts, tasks, rubric), stacks, versions, school offerings."""
