from deskpulse.cli import main

main()
