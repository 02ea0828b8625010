from migdoctor.agent import main

main()
