from lotline.cli import main

raise SystemExit(main())
