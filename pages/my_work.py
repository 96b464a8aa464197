import streamlit as st

st.title("my_work")
st.info("This page is being built.")
