from gpu_sentinel.cli import main

raise SystemExit(main())
