from migdoctor.cli import main

main()
