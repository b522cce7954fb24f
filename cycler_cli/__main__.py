from cycler_cli.cli import main

main()
