from ctiserver.cli import main

raise SystemExit(main())
