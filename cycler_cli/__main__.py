from cycler_cli.entry import main

main()
