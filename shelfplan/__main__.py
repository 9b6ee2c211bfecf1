from shelfplan.cli import main

main()
